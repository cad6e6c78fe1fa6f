/* test_ghl.c — the GoHighLevel verifier against tests/vectors/ghl/vectors.txt (providers.md
 * 3.5 byte for byte, and a fixed RSA-4096 legacy vector) and against key pairs made here:
 * Ed25519, and RSA-2048 for the legacy negatives (2048 rather than HighLevel's 4096 so the
 * test stays fast; the 4096-bit path is covered by the fixed vector). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "tests/support/files.h"
#include "tests/support/pki.h"
#include "tests/support/vectors.h"
#include "tests/support/verify.h"
#include "verifiers/base64.h"
#include "verifiers/ghl.h"

#define VECTORS CTGW_SOURCE_ROOT "/tests/vectors/ghl/"

#define FIXTURE_BODY                                                                               \
    "{\"type\":\"ContactCreate\",\"locationId\":\"ve9EPM428h8vShlRW1KT\",\"id\":"                  \
    "\"nmFmQEsNgz6AVpgLVUJ0\",\"email\":\"jane@example.com\",\"timestamp\":\"2026-01-01T00:00:"    \
    "00.000Z\",\"webhookId\":\"6a0c1e5f-3d2b-4c8a-9e71-2f4b8d0a1c33\"}"
#define FIXTURE_SIG                                                                                \
    "3z7WTNKEGTbGwoSuTku9+P4+f0ht4FNDiXN8TTr9XZoqAw+0hVbFX84niUd4Md+Xar1x66RVPhgNGj3dgZTEBQ=="
#define FIXTURE_PUB                                                                                \
    "-----BEGIN PUBLIC KEY-----\n"                                                                 \
    "MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n"                               \
    "-----END PUBLIC KEY-----\n"

/* A key from a PEM file of the vectors folder, without the type checks of the loader under
 * test (some cases configure a key of the wrong type on purpose). NULL for "none". */
static EVP_PKEY *vector_key(const char *file)
{
    if (strcmp(file, "none") == 0)
        return NULL;
    char path[512];
    snprintf(path, sizeof path, "%s%s", VECTORS, file);
    size_t len = 0;
    char *pem = test_read(path, &len);
    if (pem == NULL)
        fail_msg("cannot read %s", path);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    assert_non_null(bio);
    EVP_PKEY *key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    BIO_free(bio);
    free(pem);
    if (key == NULL)
        fail_msg("%s is not a PEM public key", path);
    return key;
}

/* One request: header values (NULL: not sent), body, keys. */
struct req {
    const char *ghl;
    const char *wh;
    const unsigned char *body;
    size_t body_len;
    EVP_PKEY *key;
    EVP_PKEY *legacy;
    const struct gw_header *extra; /* more headers, e.g. duplicates */
    size_t n_extra;
};

static enum gw_verify_result run(const struct req *r, struct gw_verify_detail *d)
{
    struct gw_header items[16];
    size_t n = 0;
    items[n++] = (struct gw_header){"content-type", "application/json"};
    if (r->ghl != NULL)
        items[n++] = (struct gw_header){"x-ghl-signature", r->ghl};
    if (r->wh != NULL)
        items[n++] = (struct gw_header){"x-wh-signature", r->wh};
    assert_true(r->n_extra <= sizeof items / sizeof items[0] - n);
    for (size_t i = 0; i < r->n_extra; i++)
        items[n++] = r->extra[i];
    struct gw_headers headers = {items, n};
    struct gw_verify_input in = {.body = r->body,
                                 .body_len = r->body_len,
                                 .headers = &headers,
                                 .now = 1767225600,
                                 .public_key = r->key,
                                 .legacy_public_key = r->legacy};
    memset(d, 0x5a, sizeof *d); /* garbage, to see that every path fills the detail */
    enum gw_verify_result res = gw_verifier_ghl.verify(&in, d);
    ts_check_detail(d, res, NULL);
    assert_int_equal(d->timestamp, 0);
    return res;
}

static void expect(const struct req *r, enum gw_verify_result want, const char *header)
{
    struct gw_verify_detail d;
    enum gw_verify_result got = run(r, &d);
    if (got != want)
        fail_msg("ghl=\"%.40s\" wh=\"%.40s\": got %s (%s: %s), want %s", r->ghl ? r->ghl : "-",
                 r->wh ? r->wh : "-", gw_verify_result_name(got), d.header, d.note,
                 gw_verify_result_name(want));
    if (header != NULL)
        assert_string_equal(d.header, header);
}

/* --- the vector file --------------------------------------------------------------------- */

struct vector {
    const char *id, *result, *reason, *secret_index, *public_key, *legacy_public_key, *body, *ghl,
        *wh;
};

/* The file's cases so far, and the one at hand. */
struct tally {
    struct vector v;
    size_t n_cases, n_valid;
    bool seen_fixture;
};

/* Checks the case at hand (a ts_vectors_each callback). */
static void check_vector(void *ud)
{
    struct tally *t = ud;
    const struct vector *v = &t->v;
    if (strcmp(v->id, "fixture-ed25519") == 0) {
        /* The file holds GoHighLevel's published vector byte for byte. */
        t->seen_fixture = true;
        assert_string_equal(v->body, FIXTURE_BODY);
        assert_string_equal(v->ghl, FIXTURE_SIG);
    }
    if (v->id == NULL || v->result == NULL || v->reason == NULL || v->secret_index == NULL ||
        v->public_key == NULL || v->legacy_public_key == NULL || v->body == NULL)
        fail_msg("case %s: a key is missing", v->id ? v->id : "(no id)");
    bool valid = strcmp(v->result, "valid") == 0;
    if (!valid && strcmp(v->result, "invalid") != 0)
        fail_msg("case %s: result must be valid or invalid", v->id);
    assert_int_equal(valid, strcmp(v->reason, "ok") == 0);
    struct req r = {.ghl = v->ghl,
                    .wh = v->wh,
                    .body = (const unsigned char *)v->body,
                    .body_len = strlen(v->body),
                    .key = vector_key(v->public_key),
                    .legacy = vector_key(v->legacy_public_key)};
    struct gw_verify_detail d;
    enum gw_verify_result got = run(&r, &d);
    if (strcmp(gw_verify_result_name(got), v->reason) != 0)
        fail_msg("case %s: got %s (%s: %s), want %s", v->id, gw_verify_result_name(got), d.header,
                 d.note, v->reason);
    assert_int_equal(d.secret_index, atoi(v->secret_index));
    EVP_PKEY_free(r.key);
    EVP_PKEY_free(r.legacy);
    t->n_cases++;
    if (valid)
        t->n_valid++;
}

static void test_vectors(void **state)
{
    (void)state;
    struct tally t = {0};
    const struct ts_vector_key keys[] = {{"id", &t.v.id},
                                         {"result", &t.v.result},
                                         {"reason", &t.v.reason},
                                         {"secret_index", &t.v.secret_index},
                                         {"public_key", &t.v.public_key},
                                         {"legacy_public_key", &t.v.legacy_public_key},
                                         {"body", &t.v.body},
                                         {"x-ghl-signature", &t.v.ghl},
                                         {"x-wh-signature", &t.v.wh},
                                         {"comment", NULL}};
    ts_vectors_each(VECTORS "vectors.txt", keys, sizeof keys / sizeof keys[0], check_vector, &t);
    assert_true(t.seen_fixture);
    assert_int_equal(t.n_cases, 11);
    assert_int_equal(t.n_valid, 3);
}

/* The fixture's public key as providers.md prints it, through the loader the config uses. */
static void test_fixture_through_loader(void **state)
{
    (void)state;
    char err[128];
    EVP_PKEY *key = gw_ghl_load_public_key(FIXTURE_PUB, strlen(FIXTURE_PUB), GW_GHL_KEY_ED25519,
                                           err, sizeof err);
    if (key == NULL)
        fail_msg("%s", err);
    struct req r = {.ghl = FIXTURE_SIG,
                    .body = (const unsigned char *)FIXTURE_BODY,
                    .body_len = strlen(FIXTURE_BODY),
                    .key = key};
    struct gw_verify_detail d;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    assert_int_equal(d.signed_len, strlen(FIXTURE_BODY));
    assert_string_equal(d.header, "x-ghl-signature");
    /* Header names are case-insensitive. */
    struct gw_header upper = {"X-GHL-Signature", FIXTURE_SIG};
    r.ghl = NULL;
    r.extra = &upper;
    r.n_extra = 1;
    expect(&r, GW_VERIFY_OK, "x-ghl-signature");
    EVP_PKEY_free(key);
}

static void load_case(const char *file, enum gw_ghl_key_kind kind, bool ok, const char *why)
{
    char path[512];
    snprintf(path, sizeof path, "%s%s", VECTORS, file);
    size_t len = 0;
    char *pem = test_read(path, &len);
    assert_non_null(pem);
    char err[128] = "unset";
    EVP_PKEY *key = gw_ghl_load_public_key(pem, len, kind, err, sizeof err);
    free(pem);
    if (ok) {
        if (key == NULL)
            fail_msg("%s: %s", file, err);
        assert_string_equal(err, "");
    } else {
        if (key != NULL)
            fail_msg("%s loaded as kind %d", file, (int)kind);
        if (strstr(err, why) == NULL)
            fail_msg("%s: \"%s\" does not say \"%s\"", file, err, why);
    }
    EVP_PKEY_free(key);
}

static void test_load_public_key(void **state)
{
    (void)state;
    /* HighLevel's published keys, and the test keys, each as its own kind only. */
    load_case("highlevel-ed25519.pub.pem", GW_GHL_KEY_ED25519, true, NULL);
    load_case("highlevel-rsa4096.pub.pem", GW_GHL_KEY_RSA, true, NULL);
    load_case("rfc8032-test1.pub.pem", GW_GHL_KEY_ED25519, true, NULL);
    load_case("legacy-rsa4096.pub.pem", GW_GHL_KEY_RSA, true, NULL);
    load_case("highlevel-ed25519.pub.pem", GW_GHL_KEY_RSA, false, "not an RSA key");
    load_case("highlevel-rsa4096.pub.pem", GW_GHL_KEY_ED25519, false, "not an Ed25519 key");
    /* A private key file is not a public key PEM. */
    load_case("legacy-rsa4096.key.pem", GW_GHL_KEY_RSA, false, "not a PEM public key");

    char err[128];
    assert_null(gw_ghl_load_public_key("", 0, GW_GHL_KEY_ED25519, err, sizeof err));
    assert_null(gw_ghl_load_public_key(NULL, 10, GW_GHL_KEY_ED25519, err, sizeof err));
    static const char junk[] = "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n";
    assert_null(gw_ghl_load_public_key(junk, sizeof junk - 1, GW_GHL_KEY_ED25519, err, sizeof err));
    assert_non_null(strstr(err, "not a PEM public key"));
    /* NULL err is allowed. */
    assert_null(gw_ghl_load_public_key(junk, sizeof junk - 1, GW_GHL_KEY_ED25519, NULL, 0));

    /* RSA below 2048 bits and EC keys are refused. */
    EVP_PKEY *small = pki_key("RSA", 1024);
    size_t len = 0;
    char *pem = pki_pubkey_pem(small, &len);
    assert_null(gw_ghl_load_public_key(pem, len, GW_GHL_KEY_RSA, err, sizeof err));
    assert_non_null(strstr(err, "below 2048 bits"));
    free(pem);
    EVP_PKEY_free(small);
    EVP_PKEY *ec = pki_key("EC", 0);
    pem = pki_pubkey_pem(ec, &len);
    assert_null(gw_ghl_load_public_key(pem, len, GW_GHL_KEY_ED25519, err, sizeof err));
    assert_null(gw_ghl_load_public_key(pem, len, GW_GHL_KEY_RSA, err, sizeof err));
    free(pem);
    EVP_PKEY_free(ec);
}

/* --- key pairs made here ----------------------------------------------------------------- */

struct pairs {
    EVP_PKEY *ed, *ed_other, *rsa, *rsa_other;
};

/* Made once for the whole group: RSA key generation is the slow part of this test. */
static struct pairs *the_pairs;

static int setup_pairs(void **state)
{
    (void)state;
    struct pairs *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->ed = pki_key("ED25519", 0);
    p->ed_other = pki_key("ED25519", 0);
    p->rsa = pki_key("RSA", 2048);
    p->rsa_other = pki_key("RSA", 2048);
    the_pairs = p;
    return 0;
}

static int teardown_pairs(void **state)
{
    (void)state;
    struct pairs *p = the_pairs;
    EVP_PKEY_free(p->ed);
    EVP_PKEY_free(p->ed_other);
    EVP_PKEY_free(p->rsa);
    EVP_PKEY_free(p->rsa_other);
    free(p);
    return 0;
}

static const char body_text[] = "{\"type\":\"InboundMessage\",\"locationId\":\"loc1\",\"body\":"
                                "\"Boiler leaking\",\"webhookId\":\"w-1\"}";

/* The two signatures of body_text (or BODY) with the pair's keys. */
static void sign_both(const struct pairs *p, const void *body, size_t len, char ed[128],
                      char rsa[1024])
{
    pki_sign_b64(p->ed, NULL, body, len, ed, 128);
    pki_sign_b64(p->rsa, EVP_sha256(), body, len, rsa, 1024);
}

static struct req pair_req(const struct pairs *p)
{
    return (struct req){.body = (const unsigned char *)body_text,
                        .body_len = sizeof body_text - 1,
                        .key = p->ed,
                        .legacy = p->rsa};
}

static void test_generated_pairs_verify(void **state)
{
    (void)state;
    const struct pairs *p = the_pairs;
    char ed[128];
    char rsa[1024];
    sign_both(p, body_text, sizeof body_text - 1, ed, rsa);
    struct req r = pair_req(p);
    struct gw_verify_detail d;
    r.ghl = ed;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
    r.ghl = NULL;
    r.wh = rsa;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 1);
    assert_string_equal(d.header, "x-wh-signature");
    assert_int_equal(d.signed_len, sizeof body_text - 1);
    /* Both present and right: the current one decides. */
    r.ghl = ed;
    assert_int_equal(run(&r, &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 0);
}

static void test_empty_body(void **state)
{
    (void)state;
    const struct pairs *p = the_pairs;
    char ed[128];
    char rsa[1024];
    sign_both(p, "", 0, ed, rsa);
    struct req r = {.ghl = ed, .body = NULL, .body_len = 0, .key = p->ed, .legacy = p->rsa};
    expect(&r, GW_VERIFY_OK, "x-ghl-signature");
    r.ghl = NULL;
    r.wh = rsa;
    expect(&r, GW_VERIFY_OK, "x-wh-signature");
    /* A length without bytes is refused, not read. */
    r.body_len = 5;
    expect(&r, GW_VERIFY_MALFORMED_HEADER, "x-wh-signature");
}

static void test_body_byte_flipped(void **state)
{
    (void)state;
    const struct pairs *p = the_pairs;
    char ed[128];
    char rsa[1024];
    sign_both(p, body_text, sizeof body_text - 1, ed, rsa);
    unsigned char body[sizeof body_text - 1];
    for (size_t at = 0; at < sizeof body; at += sizeof body - 1) { /* first and last byte */
        memcpy(body, body_text, sizeof body);
        body[at] ^= 0x01;
        struct req r = pair_req(p);
        r.body = body;
        r.ghl = ed;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "x-ghl-signature");
        r.ghl = NULL;
        r.wh = rsa;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "x-wh-signature");
    }
    /* One byte less. */
    struct req r = pair_req(p);
    r.body_len--;
    r.ghl = ed;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "x-ghl-signature");
}

/* SIG_B64 with bit 7 of byte AT flipped, re-encoded into OUT. */
static void flip_signature(const char *sig_b64, size_t at, char *out, size_t out_cap)
{
    unsigned char raw[1024];
    size_t raw_len = 0;
    assert_true(gw_base64_decode(sig_b64, strlen(sig_b64), raw, sizeof raw, &raw_len, 0));
    assert_true(at < raw_len);
    raw[at] ^= 0x80;
    assert_true(gw_base64_encode(raw, raw_len, out, out_cap, 0) > 0);
}

static void test_signature_byte_flipped(void **state)
{
    (void)state;
    const struct pairs *p = the_pairs;
    char ed[128];
    char rsa[1024];
    sign_both(p, body_text, sizeof body_text - 1, ed, rsa);
    char bad[1024];
    for (size_t at = 0; at < 64; at += 63) {
        flip_signature(ed, at, bad, sizeof bad);
        struct req r = pair_req(p);
        r.ghl = bad;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "x-ghl-signature");
    }
    /* Byte 0 with its top bit set makes the value larger than the modulus: still "no match". */
    for (size_t at = 0; at < 256; at += 255) {
        flip_signature(rsa, at, bad, sizeof bad);
        struct req r = pair_req(p);
        r.wh = bad;
        expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "x-wh-signature");
    }
}

static void test_other_keys(void **state)
{
    (void)state;
    const struct pairs *p = the_pairs;
    char ed[128];
    char rsa[1024];
    sign_both(p, body_text, sizeof body_text - 1, ed, rsa);
    struct req r = pair_req(p);
    r.key = p->ed_other;
    r.legacy = p->rsa_other;
    r.ghl = ed;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "x-ghl-signature");
    r.ghl = NULL;
    r.wh = rsa;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "x-wh-signature");
}

static void test_no_fallback(void **state)
{
    (void)state;
    const struct pairs *p = the_pairs;
    char ed[128];
    char rsa[1024];
    sign_both(p, body_text, sizeof body_text - 1, ed, rsa);
    char bad[128];
    flip_signature(ed, 10, bad, sizeof bad);
    struct req r = pair_req(p);
    r.wh = rsa; /* right */
    r.ghl = bad;
    expect(&r, GW_VERIFY_NO_SECRET_MATCHED, "x-ghl-signature");
    r.ghl = "N/A";
    struct gw_verify_detail d;
    assert_int_equal(run(&r, &d), GW_VERIFY_MALFORMED_HEADER);
    assert_string_equal(d.header, "x-ghl-signature");
    assert_non_null(strstr(d.note, "did not sign"));
    r.ghl = "garbage";
    expect(&r, GW_VERIFY_MALFORMED_HEADER, "x-ghl-signature");
    r.ghl = "";
    expect(&r, GW_VERIFY_MALFORMED_HEADER, "x-ghl-signature");
    /* No Ed25519 key configured: still no fall back. */
    r.ghl = ed;
    r.key = NULL;
    expect(&r, GW_VERIFY_KEY_UNUSABLE, "x-ghl-signature");
}

static void test_malformed_signatures(void **state)
{
    (void)state;
    const struct pairs *p = the_pairs;
    char ed[128];
    char rsa[1024];
    sign_both(p, body_text, sizeof body_text - 1, ed, rsa);
    size_t ed_len = strlen(ed);
    char unpadded[128];
    snprintf(unpadded, sizeof unpadded, "%.*s", (int)(ed_len - 2), ed);
    char spaced[140];
    snprintf(spaced, sizeof spaced, " %s", ed);
    char trailing[140];
    snprintf(trailing, sizeof trailing, "%s ", ed);
    char urlsafe[128];
    snprintf(urlsafe, sizeof urlsafe, "%s", ed);
    for (char *c = urlsafe; *c; c++)
        *c = *c == '+' ? '-' : *c == '/' ? '_' : *c;
    unsigned char raw[65] = {0};
    char b64_63[128];
    char b64_65[128];
    assert_true(gw_base64_encode(raw, 63, b64_63, sizeof b64_63, 0) > 0);
    assert_true(gw_base64_encode(raw, 65, b64_65, sizeof b64_65, 0) > 0);
    char huge[GW_GHL_SIGNATURE_B64_MAX + 8];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    const char *bad_ed[] = {"N/A", "", "!!!!", unpadded, spaced, trailing, b64_63, b64_65, huge};
    for (size_t i = 0; i < sizeof bad_ed / sizeof bad_ed[0]; i++) {
        struct req r = pair_req(p);
        r.ghl = bad_ed[i];
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "x-ghl-signature");
    }
    if (strchr(ed, '+') != NULL || strchr(ed, '/') != NULL) {
        struct req r = pair_req(p);
        r.ghl = urlsafe;
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "x-ghl-signature");
    }
    /* Legacy: the signature must be exactly the RSA key's size (256 bytes here); the
     * Ed25519 signature is the wrong size for it. */
    char rsa_short[1024];
    unsigned char raw_rsa[512] = {1};
    assert_true(gw_base64_encode(raw_rsa, 255, rsa_short, sizeof rsa_short, 0) > 0);
    char rsa_long[1024];
    assert_true(gw_base64_encode(raw_rsa, 512, rsa_long, sizeof rsa_long, 0) > 0);
    const char *bad_rsa[] = {"N/A", "", rsa_short, rsa_long, ed, huge};
    for (size_t i = 0; i < sizeof bad_rsa / sizeof bad_rsa[0]; i++) {
        struct req r = pair_req(p);
        r.wh = bad_rsa[i];
        expect(&r, GW_VERIFY_MALFORMED_HEADER, "x-wh-signature");
    }
}

static void test_missing_and_duplicate_headers(void **state)
{
    (void)state;
    const struct pairs *p = the_pairs;
    char ed[128];
    char rsa[1024];
    sign_both(p, body_text, sizeof body_text - 1, ed, rsa);
    struct req r = pair_req(p);
    expect(&r, GW_VERIFY_MISSING_HEADER, "x-ghl-signature");

    /* A duplicate, even of the same right value and in another case, is refused. */
    struct gw_header dup_ed = {"X-Ghl-Signature", ed};
    r.ghl = ed;
    r.extra = &dup_ed;
    r.n_extra = 1;
    struct gw_verify_detail d;
    assert_int_equal(run(&r, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, "x-ghl-signature");
    assert_non_null(strstr(d.note, "2 times"));
    struct gw_header dup_rsa = {"x-wh-signature", rsa};
    r = pair_req(p);
    r.wh = rsa;
    r.extra = &dup_rsa;
    r.n_extra = 1;
    expect(&r, GW_VERIFY_MISSING_HEADER, "x-wh-signature");

    /* No input or no headers at all. */
    struct gw_verify_input in = {0};
    assert_int_equal(gw_verifier_ghl.verify(&in, &d), GW_VERIFY_MISSING_HEADER);
    assert_string_equal(d.header, "x-ghl-signature");
    assert_int_equal(d.secret_index, -1);
    assert_int_equal(gw_verifier_ghl.verify(NULL, &d), GW_VERIFY_MISSING_HEADER);
    assert_int_equal(gw_verifier_ghl.verify(NULL, NULL), GW_VERIFY_MISSING_HEADER);
}

static void test_unusable_keys(void **state)
{
    (void)state;
    const struct pairs *p = the_pairs;
    char ed[128];
    char rsa[1024];
    sign_both(p, body_text, sizeof body_text - 1, ed, rsa);
    EVP_PKEY *small = pki_key("RSA", 1024);
    EVP_PKEY *ec = pki_key("EC", 0);
    struct gw_verify_detail d;

    struct req r = pair_req(p);
    r.ghl = ed;
    EVP_PKEY *wrong_current[] = {NULL, p->rsa, ec};
    for (size_t i = 0; i < 3; i++) {
        r.key = wrong_current[i];
        assert_int_equal(run(&r, &d), GW_VERIFY_KEY_UNUSABLE);
        assert_string_equal(d.header, "x-ghl-signature");
    }
    r = pair_req(p);
    r.wh = rsa;
    EVP_PKEY *wrong_legacy[] = {NULL, p->ed, ec, small};
    const char *notes[] = {"no RSA legacy_public_key", "not an RSA key", "not an RSA key",
                           "below 2048 bits"};
    for (size_t i = 0; i < 4; i++) {
        r.legacy = wrong_legacy[i];
        assert_int_equal(run(&r, &d), GW_VERIFY_KEY_UNUSABLE);
        assert_string_equal(d.header, "x-wh-signature");
        if (strstr(d.note, notes[i]) == NULL)
            fail_msg("note \"%s\" does not say \"%s\"", d.note, notes[i]);
    }
    /* The key is checked before the signature's form: a wrong key type is reported as
     * such even when the signature is garbage too. */
    r.legacy = NULL;
    r.wh = "garbage";
    expect(&r, GW_VERIFY_KEY_UNUSABLE, "x-wh-signature");
    EVP_PKEY_free(small);
    EVP_PKEY_free(ec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_fixture_through_loader),
        cmocka_unit_test(test_load_public_key),
        cmocka_unit_test(test_generated_pairs_verify),
        cmocka_unit_test(test_empty_body),
        cmocka_unit_test(test_body_byte_flipped),
        cmocka_unit_test(test_signature_byte_flipped),
        cmocka_unit_test(test_other_keys),
        cmocka_unit_test(test_no_fallback),
        cmocka_unit_test(test_malformed_signatures),
        cmocka_unit_test(test_missing_and_duplicate_headers),
        cmocka_unit_test(test_unusable_keys),
    };
    return cmocka_run_group_tests(tests, setup_pairs, teardown_pairs);
}
