/* test_sns.c — the Amazon SNS verifier against AWS's published vectors
 * (tests/vectors/sns/official.txt) and against messages of every Type, signed here with both
 * SignatureVersions by a certificate from a test CA made in the process, and every way one
 * can be refused. The certificate comes from a lookup callback: fetching is sns_certs' job
 * (tests/integration/net/test_sns_certs.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tests/support/files.h"
#include "tests/support/pki.h"
#include "tests/support/vectors.h"
#include "tests/support/verify.h"
#include "verifiers/base64.h"
#include "verifiers/sns.h"
#include "verifiers/sns_sign.h"

#define VECTORS  CTGW_SOURCE_ROOT "/tests/vectors/sns/"
#define NOW      ((time_t)1767605401) /* 2026-01-05T09:30:01Z */
#define TS       "2026-01-05T09:30:01.112Z"
#define CERT_URL "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123abcd.pem"
#define TOPIC    "arn:aws:sns:eu-west-1:123456789012:ct-inbound"
#define TOPIC_2  "arn:aws:sns:eu-west-1:123456789012:ct-other"
#define BIG      (64 * 1024)

/* --- the certificates and the lookup ------------------------------------------------------ */

struct pki {
    EVP_PKEY *ca_key, *key, *other_key, *small_key, *ec_key;
    X509 *ca, *cert, *other_cert, *small_cert, *ec_cert;
};

static struct pki pki; /* made once: RSA key generation is the slow part */

static int setup_pki(void **state)
{
    (void)state;
    pki.ca_key = pki_key("EC", 0);
    pki.ca = pki_cert(pki.ca_key, "ctgw test SNS CA", NULL, NULL, -3600, 86400, true, NULL);
    pki.key = pki_key("RSA", 2048);
    pki.cert = pki_cert(pki.key, "sns.amazonaws.com", pki.ca, pki.ca_key, -3600, 86400, false,
                        "DNS:sns.amazonaws.com");
    pki.other_key = pki_key("RSA", 2048);
    pki.other_cert =
        pki_cert(pki.other_key, "sns.amazonaws.com", pki.ca, pki.ca_key, -3600, 86400, false, NULL);
    pki.small_key = pki_key("RSA", 1024);
    pki.small_cert =
        pki_cert(pki.small_key, "sns.amazonaws.com", pki.ca, pki.ca_key, -3600, 86400, false, NULL);
    pki.ec_key = pki_key("EC", 0);
    pki.ec_cert =
        pki_cert(pki.ec_key, "sns.amazonaws.com", pki.ca, pki.ca_key, -3600, 86400, false, NULL);
    return 0;
}

static int teardown_pki(void **state)
{
    (void)state;
    EVP_PKEY *keys[] = {pki.ca_key, pki.key, pki.other_key, pki.small_key, pki.ec_key};
    X509 *certs[] = {pki.ca, pki.cert, pki.other_cert, pki.small_cert, pki.ec_cert};
    for (size_t i = 0; i < 5; i++) {
        EVP_PKEY_free(keys[i]);
        X509_free(certs[i]);
    }
    return 0;
}

struct lookup {
    X509 *cert;          /* handed out; NULL: the lookup fails with `why` */
    const char *why;     /* reason when cert is NULL */
    int calls;           /* how many times the verifier asked */
    char last_url[1100]; /* the URL it asked for */
};

static X509 *test_lookup(void *ctx, const char *url, char *why, size_t why_len)
{
    struct lookup *l = ctx;
    l->calls++;
    snprintf(l->last_url, sizeof l->last_url, "%s", url);
    if (l->cert == NULL) {
        snprintf(why, why_len, "%s", l->why != NULL ? l->why : "test lookup fails");
        return NULL;
    }
    assert_int_equal(X509_up_ref(l->cert), 1);
    return l->cert;
}

/* --- messages ---------------------------------------------------------------------------- */

/* A message's fields; NULL leaves a field out. Zero `version` means "2". */
struct msg {
    const char *type, *message_id, *token, *topic, *subject, *message, *subscribe_url, *timestamp,
        *version, *cert_url;
    const char *signature; /* sent instead of the computed one */
    int sign_version;      /* sign with this version instead of `version` (1 or 2) */
    EVP_PKEY *sign_key;    /* NULL: pki.key */
};

static struct msg notification(void)
{
    return (struct msg){
        .type = "Notification",
        .message_id = "a1b2c3d4-0000-5aa9-8199-bd14ccf05f0b",
        .topic = TOPIC,
        .subject = "Amazon SES Email Receipt Notification",
        /* A JSON document in a string, as SES sends it: quotes, a slash, a newline, UTF-8. */
        .message = "{\"notificationType\":\"Received\",\"content\":\"Subject: Caf\xc3\xa9 "
                   "\\u2603\\r\\n\",\"path\":\"a/b\"}\nline two",
        .timestamp = TS,
        .version = "2",
        .cert_url = CERT_URL,
    };
}

static struct msg confirmation(const char *type)
{
    return (struct msg){
        .type = type,
        .message_id = "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        .token = "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3"
                 "beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6"
                 "fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
        .topic = TOPIC,
        .message = "You have chosen to subscribe to the topic " TOPIC
                   ".\nTo confirm the subscription, visit the SubscribeURL included in this "
                   "message.",
        .subscribe_url = "https://sns.eu-west-1.amazonaws.com/"
                         "?Action=ConfirmSubscription&TopicArn=" TOPIC "&Token=2336412f",
        .timestamp = TS,
        .version = "1",
        .cert_url = CERT_URL,
    };
}

struct buf {
    char *data;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->data = realloc(b->data, b->cap);
        assert_non_null(b->data);
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
    put(b, s, strlen(s));
}

/* S as a JSON string: '"' and '\' escaped, "/" too (as AWS's encoder does), control bytes as
 * \uXXXX or their short forms; UTF-8 passes through. */
static void put_json_string(struct buf *b, const char *s)
{
    puts_(b, "\"");
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        char esc[8];
        if (*c == '"' || *c == '\\' || *c == '/') {
            esc[0] = '\\';
            esc[1] = (char)*c;
            put(b, esc, 2);
        } else if (*c == '\n') {
            puts_(b, "\\n");
        } else if (*c == '\r') {
            puts_(b, "\\r");
        } else if (*c < 0x20) {
            snprintf(esc, sizeof esc, "\\u%04x", *c);
            puts_(b, esc);
        } else {
            put(b, (const char *)c, 1);
        }
    }
    puts_(b, "\"");
}

/* The string SNS signs for M, written here independently of the code under test. */
static char *canonical(const struct msg *m)
{
    struct buf b = {0};
    bool notif = strcmp(m->type, "Notification") == 0;
    const char *keys[7];
    const char *values[7];
    size_t n = 0;
#define KV(k, v) (keys[n] = (k), values[n] = (v), n++)
    KV("Message", m->message);
    KV("MessageId", m->message_id);
    if (notif) {
        KV("Subject", m->subject);
        KV("Timestamp", m->timestamp);
    } else {
        KV("SubscribeURL", m->subscribe_url);
        KV("Timestamp", m->timestamp);
        KV("Token", m->token);
    }
    KV("TopicArn", m->topic);
    KV("Type", m->type);
#undef KV
    for (size_t i = 0; i < n; i++) {
        if (values[i] == NULL)
            continue;
        puts_(&b, keys[i]);
        puts_(&b, "\n");
        puts_(&b, values[i]);
        puts_(&b, "\n");
    }
    return b.data;
}

/* M as the JSON body SNS sends, signed unless M says otherwise (caller frees). */
static char *body_of(const struct msg *m)
{
    char sig[1024] = "";
    if (m->signature == NULL) {
        char *text = canonical(m);
        int v =
            m->sign_version ? m->sign_version : (m->version && !strcmp(m->version, "1") ? 1 : 2);
        pki_sign_b64(m->sign_key ? m->sign_key : pki.key, v == 1 ? EVP_sha1() : EVP_sha256(), text,
                     strlen(text), sig, sizeof sig);
        free(text);
    }
    const struct {
        const char *key, *value;
    } fields[] = {
        {"Type", m->type},
        {"MessageId", m->message_id},
        {"Token", m->token},
        {"TopicArn", m->topic},
        {"Subject", m->subject},
        {"Message", m->message},
        {"SubscribeURL", m->subscribe_url},
        {"Timestamp", m->timestamp},
        {"SignatureVersion", m->version},
        {"Signature", m->signature ? m->signature : sig},
        {"SigningCertURL", m->cert_url},
        {"UnsubscribeURL", "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe"},
    };
    struct buf b = {0};
    puts_(&b, "{\n  ");
    bool first = true;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        if (fields[i].value == NULL)
            continue;
        if (!first)
            puts_(&b, ",\n  ");
        first = false;
        put_json_string(&b, fields[i].key);
        puts_(&b, " : ");
        put_json_string(&b, fields[i].value);
    }
    puts_(&b, "\n}");
    return b.data;
}

/* --- running ----------------------------------------------------------------------------- */

struct run {
    const char *const *topics;
    size_t n_topics;
    uint64_t tolerance_s;
    time_t now;
    const char *pattern;
    bool no_lookup;
    struct lookup lookup;
};

static const char *const one_topic[] = {TOPIC};
static const char *const two_topics[] = {TOPIC_2, TOPIC};

static struct run defaults(void)
{
    return (struct run){
        .topics = one_topic, .n_topics = 1, .now = NOW, .lookup = {.cert = pki.cert}};
}

static enum gw_verify_result run_body(struct run *r, const char *body, size_t len,
                                      struct gw_verify_detail *d)
{
    struct gw_header h = {"x-amz-sns-message-type", "Notification"};
    struct gw_headers headers = {&h, 1};
    struct gw_verify_input in = {.body = (const unsigned char *)body,
                                 .body_len = len,
                                 .headers = &headers,
                                 .tolerance_s = r->tolerance_s,
                                 .now = r->now,
                                 .topics = r->topics,
                                 .n_topics = r->n_topics,
                                 .cert_host_pattern = r->pattern,
                                 .cert_lookup = r->no_lookup ? NULL : test_lookup,
                                 .cert_ctx = &r->lookup};
    memset(d, 0x5a, sizeof *d);
    enum gw_verify_result res = gw_verifier_sns.verify(&in, d);
    ts_check_detail(d, res, NULL);
    return res;
}

static void expect_body(struct run *r, const char *body, enum gw_verify_result want,
                        const char *header, const char *note)
{
    struct gw_verify_detail d;
    enum gw_verify_result got = run_body(r, body, strlen(body), &d);
    if (got != want)
        fail_msg("got %s (%s: %s), want %s, body %.300s", gw_verify_result_name(got), d.header,
                 d.note, gw_verify_result_name(want), body);
    if (header != NULL && strcmp(d.header, header) != 0)
        fail_msg("header \"%s\", want \"%s\" (%s)", d.header, header, d.note);
    if (note != NULL && strstr(d.note, note) == NULL)
        fail_msg("note \"%s\" does not say \"%s\"", d.note, note);
}

static void expect_msg(struct run *r, const struct msg *m, enum gw_verify_result want,
                       const char *header)
{
    char *body = body_of(m);
    expect_body(r, body, want, header, NULL);
    free(body);
}

static void expect_ok(const struct msg *m)
{
    struct run r = defaults();
    expect_msg(&r, m, GW_VERIFY_OK, NULL);
}

/* --- the official vectors ---------------------------------------------------------------- */

static X509 *official_cert(void)
{
    size_t len = 0;
    char *pem = test_read(VECTORS "official-cert.pem", &len);
    assert_non_null(pem);
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    assert_non_null(bio);
    X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    assert_non_null(cert);
    BIO_free(bio);
    free(pem);
    /* The certificate providers.md names, by its SHA-256 fingerprint. */
    unsigned char fp[32];
    unsigned int fp_len = 0;
    assert_int_equal(X509_digest(cert, EVP_sha256(), fp, &fp_len), 1);
    static const unsigned char want[32] = {0xD0, 0x38, 0x29, 0xB4, 0x6E, 0x82, 0xC5, 0xFD,
                                           0x1C, 0x2D, 0x24, 0x10, 0x93, 0x21, 0x5B, 0x2E,
                                           0x74, 0x69, 0xA8, 0x1E, 0x16, 0xC0, 0x57, 0x77,
                                           0xE7, 0xC7, 0x22, 0xA3, 0x6E, 0x0C, 0xB2, 0xA5};
    assert_int_equal(fp_len, 32);
    assert_memory_equal(fp, want, 32);
    return cert;
}

struct vector {
    const char *id, *result, *reason, *now, *topic, *body;
};

/* The file's cases so far, and the one at hand. */
struct tally {
    struct vector v;
    X509 *cert;
    size_t n_cases;
};

/* Checks the case at hand (a ts_vectors_each callback). */
static void check_vector(void *ud)
{
    struct tally *t = ud;
    const struct vector *v = &t->v;
    if (v->id == NULL || v->result == NULL || v->reason == NULL || v->now == NULL ||
        v->topic == NULL || v->body == NULL)
        fail_msg("case %s: a key is missing", v->id ? v->id : "(no id)");
    bool valid = strcmp(v->result, "valid") == 0;
    assert_int_equal(valid, strcmp(v->reason, "ok") == 0);
    struct run r = defaults();
    const char *topics[1] = {v->topic};
    r.topics = topics;
    r.now = (time_t)strtoll(v->now, NULL, 10);
    r.lookup.cert = t->cert;
    struct gw_verify_detail d;
    enum gw_verify_result got = run_body(&r, v->body, strlen(v->body), &d);
    if (strcmp(gw_verify_result_name(got), v->reason) != 0)
        fail_msg("case %s: got %s (%s: %s), want %s", v->id, gw_verify_result_name(got), d.header,
                 d.note, v->reason);
    assert_int_equal(r.lookup.calls, 1);
    assert_string_equal(r.lookup.last_url, "https://sns.us-east-2.amazonaws.com/"
                                           "SimpleNotificationService-"
                                           "7ff5318490ec183fbaddaa2a969abfda.pem");
    if (valid) {
        assert_int_equal(d.secret_index, 0);
        assert_int_equal(d.timestamp, r.now);
    }
    t->n_cases++;
}

static void test_official_vectors(void **state)
{
    (void)state;
    struct tally t = {.cert = official_cert()};
    const struct ts_vector_key keys[] = {
        {"id", &t.v.id},       {"result", &t.v.result}, {"reason", &t.v.reason}, {"now", &t.v.now},
        {"topic", &t.v.topic}, {"body", &t.v.body},     {"comment", NULL}};
    ts_vectors_each(VECTORS "official.txt", keys, sizeof keys / sizeof keys[0], check_vector, &t);
    assert_int_equal(t.n_cases, 6);
    X509_free(t.cert);
}

/* The canonical string of official vector 1, exactly as providers.md prints it. */
static void test_official_string_to_sign(void **state)
{
    (void)state;
    static const char body[] =
        "{\"Type\":\"Notification\",\"MessageId\":\"792cda85-518f-5dd3-9163-81d851212f3a\","
        "\"TopicArn\":\"arn:aws:sns:us-east-2:295079676684:publish-and-verify-892f85fe-4836-424d-"
        "8188-ab85bef0f362\",\"Message\":\"Hello "
        "world\",\"Timestamp\":\"2022-07-28T21:23:58.317Z\"}";
    static const char want[] =
        "Message\nHello world\nMessageId\n792cda85-518f-5dd3-9163-81d851212f3a\nTimestamp\n2022-07-"
        "28T21:23:58.317Z\nTopicArn\narn:aws:sns:us-east-2:295079676684:publish-and-verify-"
        "892f85fe-"
        "4836-424d-8188-ab85bef0f362\nType\nNotification\n";
    char *out = NULL;
    size_t out_len = 0;
    struct gw_verify_detail d;
    assert_int_equal(
        gw_sns_string_to_sign((const unsigned char *)body, sizeof body - 1, &out, &out_len, &d),
        GW_VERIFY_OK);
    assert_int_equal(out_len, sizeof want - 1);
    assert_string_equal(out, want);
    assert_int_equal(d.signed_len, sizeof want - 1);
    free(out);
}

/* --- messages signed here ---------------------------------------------------------------- */

static void test_every_type_and_version(void **state)
{
    (void)state;
    const char *versions[] = {"1", "2"};
    for (size_t v = 0; v < 2; v++) {
        struct msg m = notification();
        m.version = versions[v];
        expect_ok(&m);
        m.subject = NULL; /* Subject is optional, and signed only when present */
        expect_ok(&m);
        const char *types[] = {"SubscriptionConfirmation", "UnsubscribeConfirmation"};
        for (size_t t = 0; t < 2; t++) {
            m = confirmation(types[t]);
            m.version = versions[v];
            expect_ok(&m);
        }
    }
}

static void test_detail_on_success(void **state)
{
    (void)state;
    struct msg m = notification();
    char *body = body_of(&m);
    char *text = canonical(&m);
    struct run r = defaults();
    r.topics = two_topics; /* the message's topic is the second allowed one */
    r.n_topics = 2;
    struct gw_verify_detail d;
    assert_int_equal(run_body(&r, body, strlen(body), &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 1);
    assert_int_equal(d.signed_len, strlen(text));
    assert_int_equal(d.timestamp, NOW);
    assert_int_equal(r.lookup.calls, 1);
    assert_string_equal(r.lookup.last_url, CERT_URL);
    free(body);
    free(text);
}

static void test_string_to_sign_matches(void **state)
{
    (void)state;
    struct msg msgs[4] = {notification(), notification(), confirmation("SubscriptionConfirmation"),
                          confirmation("UnsubscribeConfirmation")};
    msgs[1].subject = NULL;
    msgs[3].subject = "ignored: Subject is not signed in confirmations";
    for (size_t i = 0; i < 4; i++) {
        char *body = body_of(&msgs[i]);
        char *want = canonical(&msgs[i]);
        char *out = NULL;
        size_t out_len = 0;
        assert_int_equal(
            gw_sns_string_to_sign((const unsigned char *)body, strlen(body), &out, &out_len, NULL),
            GW_VERIFY_OK);
        assert_int_equal(out_len, strlen(want));
        assert_string_equal(out, want);
        free(out);
        free(want);
        free(body);
    }
    /* Escapes are decoded: \/, \", \n, \u00e9 and a surrogate pair. */
    static const char body[] = "{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":\"t\","
                               "\"Message\":\"a\\/b \\\"q\\\" \\n caf\\u00e9 \\ud83d\\ude00\","
                               "\"Timestamp\":\"x\",\"Subject\":null}";
    static const char want[] = "Message\na/b \"q\" \n caf\xc3\xa9 \xf0\x9f\x98\x80\nMessageId\nm\n"
                               "Timestamp\nx\nTopicArn\nt\nType\nNotification\n";
    char *out = NULL;
    size_t out_len = 0;
    assert_int_equal(
        gw_sns_string_to_sign((const unsigned char *)body, sizeof body - 1, &out, &out_len, NULL),
        GW_VERIFY_OK);
    assert_string_equal(out, want);
    free(out);
    /* Failure leaves *out NULL, and NULL out pointers are refused. */
    out = (char *)body;
    assert_int_equal(gw_sns_string_to_sign((const unsigned char *)"[]", 2, &out, &out_len, NULL),
                     GW_VERIFY_MALFORMED_HEADER);
    assert_null(out);
    assert_int_equal(out_len, 0);
    assert_int_equal(
        gw_sns_string_to_sign((const unsigned char *)body, sizeof body - 1, NULL, &out_len, NULL),
        GW_VERIFY_MALFORMED_HEADER);
}

/* Every signed field changed after signing breaks the signature. */
static void test_signed_fields_changed(void **state)
{
    (void)state;
    struct msg m = notification();
    char *body = body_of(&m);
    /* One byte of the Message value ("Received" -> "Receivee"). */
    char *flipped = test_replace(body, "Received", "Receivee");
    struct run r = defaults();
    expect_body(&r, flipped, GW_VERIFY_NO_SECRET_MATCHED, "Signature", "does not verify");
    free(flipped);
    const char *changes[][2] = {
        {"a1b2c3d4-0000", "a1b2c3d5-0000"},                   /* MessageId */
        {"Email Receipt", "Email receipt"},                   /* Subject */
        {"09:30:01.112Z", "09:30:01.113Z"},                   /* Timestamp, same second */
        {"\"Subject\" : ", "\"X-Subject\" : "},               /* Subject removed */
        {"line two", "line two "},                            /* one byte more */
        {"\"Subject\" : \"Amazon", "\"Subject\" : \"amazon"}, /* case */
    };
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        char *changed = test_replace(body, changes[i][0], changes[i][1]);
        assert_string_not_equal(changed, body);
        r = defaults();
        expect_body(&r, changed, GW_VERIFY_NO_SECRET_MATCHED, "Signature", NULL);
        free(changed);
    }
    /* TopicArn changed to another topic the endpoint also allows. */
    char *other_topic = test_replace(body, "ct-inbound", "ct-other");
    r = defaults();
    r.topics = two_topics;
    r.n_topics = 2;
    expect_body(&r, other_topic, GW_VERIFY_NO_SECRET_MATCHED, "Signature", NULL);
    free(other_topic);
    free(body);

    /* The confirmation-only fields are signed too. */
    m = confirmation("SubscriptionConfirmation");
    body = body_of(&m);
    const char *conf_changes[][2] = {{"d60a747ba6f3", "d60a747ba6f4"},        /* Token */
                                     {"&Token=2336412f", "&Token=2336412e"}}; /* SubscribeURL */
    for (size_t i = 0; i < 2; i++) {
        char *changed = test_replace(body, conf_changes[i][0], conf_changes[i][1]);
        assert_string_not_equal(changed, body);
        r = defaults();
        expect_body(&r, changed, GW_VERIFY_NO_SECRET_MATCHED, "Signature", NULL);
        free(changed);
    }
    free(body);
}

static void test_signature_flipped(void **state)
{
    (void)state;
    struct msg m = notification();
    char *text = canonical(&m);
    char sig[1024];
    pki_sign_b64(pki.key, EVP_sha256(), text, strlen(text), sig, sizeof sig);
    free(text);
    unsigned char raw[256];
    size_t raw_len = 0;
    assert_true(gw_base64_decode(sig, strlen(sig), raw, sizeof raw, &raw_len, 0));
    assert_int_equal(raw_len, 256);
    for (size_t at = 0; at < 256; at += 255) {
        unsigned char flipped[256];
        memcpy(flipped, raw, sizeof flipped);
        flipped[at] ^= 0x80;
        char b64[1024];
        assert_true(gw_base64_encode(flipped, 256, b64, sizeof b64, 0) > 0);
        m.signature = b64;
        struct run r = defaults();
        expect_msg(&r, &m, GW_VERIFY_NO_SECRET_MATCHED, "Signature");
    }
    /* The right signature passes through the same path. */
    m.signature = sig;
    expect_ok(&m);
}

static void test_versions(void **state)
{
    (void)state;
    /* Signed with one version, labelled the other. */
    struct msg m = notification();
    m.version = "2";
    m.sign_version = 1;
    struct run r = defaults();
    expect_msg(&r, &m, GW_VERIFY_NO_SECRET_MATCHED, "Signature");
    m.version = "1";
    m.sign_version = 2;
    r = defaults();
    expect_msg(&r, &m, GW_VERIFY_NO_SECRET_MATCHED, "Signature");
    /* Versions that do not exist. */
    const char *bad[] = {"3", "0", "", "01", "1 ", " 2", "v1", "1.0", "2\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = notification();
        m.version = bad[i];
        m.sign_version = 2;
        r = defaults();
        expect_msg(&r, &m, GW_VERIFY_MALFORMED_HEADER, "SignatureVersion");
        assert_int_equal(r.lookup.calls, 0);
    }
    /* A number rather than a string. */
    m = notification();
    char *body = body_of(&m);
    char *number = test_replace(body, "\"SignatureVersion\" : \"2\"", "\"SignatureVersion\" : 2");
    assert_string_not_equal(number, body);
    r = defaults();
    expect_body(&r, number, GW_VERIFY_MALFORMED_HEADER, "SignatureVersion", "not a JSON string");
    free(number);
    free(body);
}

static void test_topics(void **state)
{
    (void)state;
    struct msg m = notification();
    char *body = body_of(&m);
    struct run r = defaults();
    const char *const others[] = {TOPIC_2, TOPIC "x",
                                  "arn:aws:sns:eu-west-1:123456789012:CT-INBOUND"};
    r.topics = others;
    r.n_topics = 3;
    expect_body(&r, body, GW_VERIFY_NO_SECRET_MATCHED, "TopicArn", "none of the 3 topics");
    assert_int_equal(r.lookup.calls, 0); /* decided before any certificate is looked up */
    r = defaults();
    r.n_topics = 0;
    expect_body(&r, body, GW_VERIFY_KEY_UNUSABLE, "TopicArn", "topics list is empty");
    r = defaults();
    r.topics = NULL;
    expect_body(&r, body, GW_VERIFY_KEY_UNUSABLE, "TopicArn", NULL);
    /* A NULL entry in the list is skipped, not dereferenced. */
    const char *const with_null[] = {NULL, TOPIC};
    r = defaults();
    r.topics = with_null;
    r.n_topics = 2;
    struct gw_verify_detail d;
    assert_int_equal(run_body(&r, body, strlen(body), &d), GW_VERIFY_OK);
    assert_int_equal(d.secret_index, 1);
    free(body);
}

static void test_cert_url_in_message(void **state)
{
    (void)state;
    const char *bad[] = {
        "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123abcd.pem",
        "https://sns.eu-west-1.amazonaws.com.evil.example/SimpleNotificationService-0123abcd.pem",
        "https://evil.example/SimpleNotificationService-0123abcd.pem",
        "https://sns.amazonaws.com/SimpleNotificationService-0123abcd.pem",
        "https://sns.a.b.amazonaws.com/SimpleNotificationService-0123abcd.pem",
        "https://s3.amazonaws.com/sns.eu-west-1.amazonaws.com/x.pem",
        "https://sns.eu-west-1.amazonaws.com@evil.example/x.pem",
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123abcd.pem?x=1",
        "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123abcd.crt",
        "https://sns.eu-west-1.amazonaws.com",
        "ftp://sns.eu-west-1.amazonaws.com/x.pem",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct msg m = notification();
        m.cert_url = bad[i];
        struct run r = defaults();
        expect_msg(&r, &m, GW_VERIFY_MALFORMED_HEADER, "SigningCertURL");
        assert_int_equal(r.lookup.calls, 0);
    }
    /* Another pattern configured: the loopback host of the fetcher test is then accepted. */
    struct msg m = notification();
    m.cert_url = "https://127.0.0.1:8443/cert.pem";
    struct run r = defaults();
    expect_msg(&r, &m, GW_VERIFY_MALFORMED_HEADER, "SigningCertURL");
    r = defaults();
    r.pattern = "127.0.0.1:*";
    expect_msg(&r, &m, GW_VERIFY_OK, NULL);
    assert_string_equal(r.lookup.last_url, "https://127.0.0.1:8443/cert.pem");
}

/* CHECK (gw_sns_cert_url_ok or gw_sns_subscribe_url_ok) of URL is WANT, with a reason when
 * false. */
static void check_url(bool (*check)(const char *, const char *, char *, size_t), const char *url,
                      const char *patterns, bool want)
{
    char why[160] = "unset";
    bool got = check(url, patterns, why, sizeof why);
    if (got != want)
        fail_msg("%s with %s: got %d (%s)", url ? url : "(null)", patterns ? patterns : "(default)",
                 got, why);
    if (!got)
        assert_true(strlen(why) > 0 && strcmp(why, "unset") != 0);
}

static void url_case(const char *url, const char *patterns, bool want)
{
    check_url(gw_sns_cert_url_ok, url, patterns, want);
}

static void subscribe_case(const char *url, const char *patterns, bool want)
{
    check_url(gw_sns_subscribe_url_ok, url, patterns, want);
}

static void test_cert_url_rules(void **state)
{
    (void)state;
    /* The default pattern: one label between sns. and .amazonaws.com. */
    url_case("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", NULL, true);
    url_case("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", "", true);
    url_case("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-abc.pem", " , ", true);
    url_case("HTTPS://SNS.US-EAST-1.AMAZONAWS.COM/a.pem", NULL, true);
    url_case("https://sns.cn-north-1.amazonaws.com.cn/a.pem", NULL, false);
    url_case("https://sns.cn-north-1.amazonaws.com.cn/a.pem", "sns.*.amazonaws.com.cn", true);
    url_case("https://sns.cn-north-1.amazonaws.com.cn/a.pem",
             "sns.*.amazonaws.com, sns.*.amazonaws.com.cn", true);
    url_case("https://sns.us-east-1.amazonaws.com/a.pem",
             "sns.*.amazonaws.com, sns.*.amazonaws.com.cn", true);
    url_case("https://sns..amazonaws.com/a.pem", NULL, false);
    url_case("https://sns.us_east.amazonaws.com/a.pem", NULL, false);
    url_case("https://sns.us-east-1.amazonaws.com./a.pem", NULL, false);
    url_case("https://sns.us-east-1.amazonaws.com:443/a.pem", NULL, false);
    url_case("https://xsns.us-east-1.amazonaws.com/a.pem", NULL, false);
    url_case("https://sns.us-east-1.amazonaws.comx/a.pem", NULL, false);
    url_case("https:/sns.us-east-1.amazonaws.com/a.pem", NULL, false);
    url_case("https://[::1]/a.pem", "*", false);
    url_case("https://user@sns.us-east-1.amazonaws.com/a.pem", NULL, false);
    url_case(NULL, NULL, false);
    url_case("", NULL, false);
    /* A label of 63 characters matches '*', one of 64 does not. */
    char url[512];
    char label[65];
    memset(label, 'a', 64);
    label[63] = '\0';
    snprintf(url, sizeof url, "https://sns.%s.amazonaws.com/a.pem", label);
    url_case(url, NULL, true);
    label[63] = 'a';
    label[64] = '\0';
    snprintf(url, sizeof url, "https://sns.%s.amazonaws.com/a.pem", label);
    url_case(url, NULL, false);
    /* Ports and IP hosts, for tests. */
    url_case("https://127.0.0.1:8443/a.pem", "127.0.0.1:*", true);
    url_case("https://127.0.0.1/a.pem", "127.0.0.1:*", false);
    url_case("https://127.0.0.1:/a.pem", "127.0.0.1:*", false);
    url_case("https://127.0.0.1:1234567/a.pem", "127.0.0.1:*", false);
    url_case("https://127.0.0.1:84x3/a.pem", "127.0.0.1:*", false);
    url_case("https://127.0.0.2:8443/a.pem", "127.0.0.1:*", false);
    url_case("https://localhost:8443/a.pem", "127.0.0.1:*", false);
    /* Patterns with more than three stars are never matched. */
    url_case("https://a.b.c.d/a.pem", "*.*.*.*", false);
    url_case("https://a.b.c/a.pem", "*.*.*", true);
    url_case("https://sns-x.eu.example:1/a.pem", "sns-*.*.example:*", true);
    /* Paths. */
    const char *paths[] = {"/a.pem?x",  "/a.pem#x",   "/a%2e.pem", "/a b.pem",
                           "/../a.pem", "/x/./a.pem", "/x/..",     "/a.PEM",
                           "/.pe",      "/a.pem/",    "/a\x01.pem"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        snprintf(url, sizeof url, "https://sns.us-east-1.amazonaws.com%s", paths[i]);
        url_case(url, NULL, false);
    }
    url_case("https://sns.us-east-1.amazonaws.com/x/..a.pem", NULL, true);
    url_case("https://sns.us-east-1.amazonaws.com/.pem", NULL, true);
    url_case("https://sns.us-east-1.amazonaws.com/d/i_r~/a-b.c.pem", NULL, true);
    /* Length bound: GW_SNS_CERT_URL_MAX bytes accepted, one more refused. */
    char long_url[GW_SNS_CERT_URL_MAX + 2];
    int head = snprintf(long_url, sizeof long_url, "https://sns.us-east-1.amazonaws.com/");
    memset(long_url + head, 'a', GW_SNS_CERT_URL_MAX - (size_t)head - 4);
    memcpy(long_url + GW_SNS_CERT_URL_MAX - 4, ".pem", 5);
    assert_int_equal(strlen(long_url), GW_SNS_CERT_URL_MAX);
    url_case(long_url, NULL, true);
    memmove(long_url + head + 1, long_url + head, GW_SNS_CERT_URL_MAX - (size_t)head + 1);
    url_case(long_url, NULL, false);
    /* WHY may be NULL. */
    assert_false(gw_sns_cert_url_ok("http://x/a.pem", NULL, NULL, 0));
}

/* SubscribeURL: the host rules of SigningCertURL, any path and query, nothing unprintable. */
static void test_subscribe_url_rules(void **state)
{
    (void)state;
    subscribe_case("https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
                   "arn:aws:sns:eu-west-1:123456789012:ct-inbound&Token=2336412f37",
                   NULL, true);
    subscribe_case("https://sns.eu-west-1.amazonaws.com?Action=ConfirmSubscription", NULL, true);
    subscribe_case("https://127.0.0.1:8443/?Action=ConfirmSubscription", "127.0.0.1:*", true);
    subscribe_case("http://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription", NULL, false);
    subscribe_case("https://sns.eu-west-1.amazonaws.com.evil.example/?x", NULL, false);
    subscribe_case("https://evil.example/?https://sns.eu-west-1.amazonaws.com/", NULL, false);
    subscribe_case("https://sns.eu-west-1.amazonaws.com@evil.example/", NULL, false);
    subscribe_case("https://localhost:8443/?Action=ConfirmSubscription", "127.0.0.1:*", false);
    subscribe_case("https://sns.eu-west-1.amazonaws.com/?a=b c", NULL, false);
    subscribe_case("https://sns.eu-west-1.amazonaws.com/?a=b\r\nHost: x", NULL, false);
    subscribe_case("https://sns.eu-west-1.amazonaws.com/?a=\xc3\xa9", NULL, false);
    subscribe_case(NULL, NULL, false);
    assert_false(gw_sns_subscribe_url_ok("ftp://x/", NULL, NULL, 0));
}

/* gw_sns_sign writes what the verifier accepts, for both versions and every Type, and
 * refuses what it cannot sign. */
static void test_sign_round_trip(void **state)
{
    (void)state;
    const char *url = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-x.pem";
    struct msg msgs[] = {notification(), confirmation("SubscriptionConfirmation"),
                         confirmation("UnsubscribeConfirmation")};
    const char *versions[] = {"1", "2"};
    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        for (size_t v = 0; v < 2; v++) {
            msgs[i].signature = "placeholder"; /* replaced by the signer */
            char *body = body_of(&msgs[i]);
            char *out = NULL;
            size_t len = 0;
            char err[256] = "";
            if (gw_sns_sign((const unsigned char *)body, strlen(body), pki.key, versions[v], url,
                            &out, &len, err, sizeof err) != 0)
                fail_msg("gw_sns_sign: %s", err);
            assert_int_equal(strlen(out), len);
            struct run r = defaults();
            expect_body(&r, out, GW_VERIFY_OK, NULL, NULL);
            assert_string_equal(r.lookup.last_url, url);
            /* Signed with another key: refused. */
            free(out);
            assert_int_equal(gw_sns_sign((const unsigned char *)body, strlen(body), pki.other_key,
                                         versions[v], url, &out, &len, err, sizeof err),
                             0);
            r = defaults();
            expect_body(&r, out, GW_VERIFY_NO_SECRET_MATCHED, NULL, NULL);
            free(out);
            free(body);
        }
    }
    char *out = (char *)"untouched";
    size_t len = 7;
    char err[256];
    const char *ok = "{\"Type\":\"Notification\",\"Message\":\"m\",\"MessageId\":\"1\","
                     "\"Timestamp\":\"2026-01-05T09:30:01.112Z\",\"TopicArn\":\"" TOPIC "\"}";
    assert_int_equal(gw_sns_sign((const unsigned char *)ok, strlen(ok), pki.ec_key, "2", url, &out,
                                 &len, err, sizeof err),
                     -1);
    assert_null(out);
    assert_non_null(strstr(err, "RSA"));
    assert_int_equal(gw_sns_sign((const unsigned char *)ok, strlen(ok), pki.key, "3", url, &out,
                                 &len, err, sizeof err),
                     -1);
    assert_int_equal(gw_sns_sign((const unsigned char *)"[1]", 3, pki.key, "2", url, &out, &len,
                                 err, sizeof err),
                     -1);
    const char *no_id = "{\"Type\":\"Notification\",\"Message\":\"m\"}";
    assert_int_equal(gw_sns_sign((const unsigned char *)no_id, strlen(no_id), pki.key, "2", url,
                                 &out, &len, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "MessageId"));
}

static void test_timestamps(void **state)
{
    (void)state;
    struct msg m = notification();
    char *body = body_of(&m);
    struct run r = defaults();
    struct gw_verify_detail d;
    /* Default tolerance (0) is an hour: the edge is inside, one second more is not. */
    const struct {
        uint64_t tolerance;
        time_t now;
        enum gw_verify_result want;
        const char *note;
    } cases[] = {
        {0, NOW + 3600, GW_VERIFY_OK, NULL},
        {0, NOW - 3600, GW_VERIFY_OK, NULL},
        {0, NOW + 3601, GW_VERIFY_TIMESTAMP_OUTSIDE, "3601 s in the past, tolerance 3600 s"},
        {0, NOW - 3601, GW_VERIFY_TIMESTAMP_OUTSIDE, "3601 s in the future"},
        {300, NOW + 300, GW_VERIFY_OK, NULL},
        {300, NOW + 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "301 s in the past, tolerance 300 s"},
        {300, NOW - 301, GW_VERIFY_TIMESTAMP_OUTSIDE, "301 s in the future"},
        {300, (time_t)INT64_MAX, GW_VERIFY_TIMESTAMP_OUTSIDE, "in the past"},
        {300, (time_t)INT64_MIN, GW_VERIFY_TIMESTAMP_OUTSIDE, "in the future"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = defaults();
        r.tolerance_s = cases[i].tolerance;
        r.now = cases[i].now;
        enum gw_verify_result got = run_body(&r, body, strlen(body), &d);
        if (got != cases[i].want)
            fail_msg("case %zu: got %s (%s)", i, gw_verify_result_name(got), d.note);
        assert_int_equal(d.timestamp, NOW);
        if (cases[i].note != NULL) {
            assert_string_equal(d.header, "Timestamp");
            if (strstr(d.note, cases[i].note) == NULL)
                fail_msg("note \"%s\" does not say \"%s\"", d.note, cases[i].note);
            assert_int_equal(r.lookup.calls, 0); /* stale messages cost no lookup */
        }
    }
    free(body);

    /* Forms of the timestamp: the signature is made over each, so only the form decides. */
    const struct {
        const char *ts;
        time_t at;
    } good[] = {
        {"2026-01-05T09:30:01Z", NOW},           {"2026-01-05T09:30:01.1Z", NOW},
        {"2026-01-05T09:30:01.123456789Z", NOW}, {"2024-02-29T00:00:00.000Z", 1709164800},
        {"1970-01-01T00:00:00.000Z", 0},         {"2000-03-01T23:59:59.999Z", 951955199},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        m = notification();
        m.timestamp = good[i].ts;
        body = body_of(&m);
        r = defaults();
        r.now = good[i].at;
        assert_int_equal(run_body(&r, body, strlen(body), &d), GW_VERIFY_OK);
        assert_int_equal(d.timestamp, good[i].at);
        free(body);
    }
    const char *bad[] = {
        "",
        "2026-01-05",
        "2026-01-05 09:30:01Z",
        "2026-01-05T09:30:01",
        "2026-01-05T09:30:01+00:00",
        "2026-01-05T09:30:01.Z",
        "2026-01-05T09:30:01.1234567890Z",
        "2026-01-05T09:30:01,112Z",
        "2026-13-05T09:30:01Z",
        "2026-00-05T09:30:01Z",
        "2026-02-29T09:30:01Z",
        "2026-04-31T09:30:01Z",
        "2026-01-00T09:30:01Z",
        "2026-01-05T24:00:00Z",
        "2026-01-05T09:60:01Z",
        "2026-01-05T09:30:60Z",
        "2026-01-05t09:30:01Z",
        "2026-01-05T09:30:01z",
        "+026-01-05T09:30:01Z",
        "1767605401",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = notification();
        m.timestamp = bad[i];
        r = defaults();
        expect_msg(&r, &m, GW_VERIFY_MALFORMED_HEADER, "Timestamp");
    }
}

/* M's body with the field KEY removed, or its value replaced by the raw JSON VALUE. */
static char *with_field(const struct msg *m, const char *key, const char *value)
{
    char *body = body_of(m);
    char needle[64];
    snprintf(needle, sizeof needle, "\"%s\" : ", key);
    char *at = strstr(body, needle);
    assert_non_null(at);
    /* The value runs to the next ",\n" or "\n}" — body_of puts one field per line. */
    char *end = strchr(at, '\n');
    assert_non_null(end);
    if (end[-1] == ',')
        end--;
    struct buf b = {0};
    put(&b, body, (size_t)(at - body));
    if (value != NULL) {
        puts_(&b, needle);
        puts_(&b, value);
        puts_(&b, end);
    } else {
        /* Drop the field and its separator. */
        const char *rest = *end == ',' ? end + 4 : end; /* ",\n  " */
        if (*end != ',' && b.len >= 4 && b.data[b.len - 4] == ',') {
            b.len -= 4; /* last field: drop the separator before it */
            b.data[b.len] = '\0';
        }
        puts_(&b, rest);
    }
    free(body);
    return b.data;
}

static void test_fields(void **state)
{
    (void)state;
    const char *notification_required[] = {"Type",      "MessageId",     "TopicArn",
                                           "Message",   "Timestamp",     "SignatureVersion",
                                           "Signature", "SigningCertURL"};
    const char *confirmation_required[] = {
        "Type",      "MessageId",        "Token",     "TopicArn",      "Message", "SubscribeURL",
        "Timestamp", "SignatureVersion", "Signature", "SigningCertURL"};
    struct msg msgs[3] = {notification(), confirmation("SubscriptionConfirmation"),
                          confirmation("UnsubscribeConfirmation")};
    for (size_t k = 0; k < 3; k++) {
        const char **req = k == 0 ? notification_required : confirmation_required;
        size_t n = k == 0 ? 8 : 10;
        for (size_t i = 0; i < n; i++) {
            struct run r = defaults();
            char *body = with_field(&msgs[k], req[i], NULL);
            expect_body(&r, body, GW_VERIFY_MISSING_HEADER, req[i], "is missing");
            free(body);
            body = with_field(&msgs[k], req[i], "null");
            expect_body(&r, body, GW_VERIFY_MISSING_HEADER, req[i], "is missing");
            free(body);
            const char *not_strings[] = {"1", "true", "[]", "{}"};
            for (size_t j = 0; j < 4; j++) {
                body = with_field(&msgs[k], req[i], not_strings[j]);
                expect_body(&r, body, GW_VERIFY_MALFORMED_HEADER, req[i], "not a JSON string");
                free(body);
            }
            assert_int_equal(r.lookup.calls, 0);
        }
    }
    /* Notifications need neither Token nor SubscribeURL, and have no UnsubscribeURL need. */
    struct msg m = notification();
    char *body = with_field(&m, "UnsubscribeURL", NULL);
    struct run r = defaults();
    expect_body(&r, body, GW_VERIFY_OK, NULL, NULL);
    free(body);
    /* Subject: null is absent (as AWS's validators treat it); a number is refused. Signed
     * without Subject, then sent with "Subject": null. */
    m = notification();
    m.subject = NULL;
    char *base = body_of(&m);
    char *with_null = test_replace(base, "\"Message\" : ", "\"Subject\" : null,\n  \"Message\" : ");
    assert_string_not_equal(with_null, base);
    r = defaults();
    expect_body(&r, with_null, GW_VERIFY_OK, NULL, NULL);
    free(with_null);
    char *with_number = test_replace(base, "\"Message\" : ", "\"Subject\" : 5,\n  \"Message\" : ");
    expect_body(&r, with_number, GW_VERIFY_MALFORMED_HEADER, "Subject", "not a JSON string");
    free(with_number);
    free(base);

    /* Type: unknown values, and the case matters. */
    const char *types[] = {"\"notification\"", "\"Notification \"", "\"\"",
                           "\"SubscribeConfirmation\""};
    for (size_t i = 0; i < 4; i++) {
        m = notification();
        body = with_field(&m, "Type", types[i]);
        r = defaults();
        expect_body(&r, body, GW_VERIFY_MALFORMED_HEADER, "Type", NULL);
        free(body);
    }
    /* A field given twice is refused even when both copies are equal, since another parser
     * could take the other one; unknown fields may repeat. */
    m = notification();
    base = body_of(&m);
    const char *dups[] = {"\"Message\" : \"x\",\n  ", "\"TopicArn\" : \"" TOPIC "\",\n  ",
                          "\"Signature\" : \"AAAA\",\n  ", "\"Subject\" : null,\n  "};
    const char *dup_names[] = {"Message", "TopicArn", "Signature", "Subject"};
    for (size_t i = 0; i < 4; i++) {
        struct buf b = {0};
        puts_(&b, "{\n  ");
        puts_(&b, dups[i]);
        puts_(&b, base + 4);
        r = defaults();
        expect_body(&r, b.data, GW_VERIFY_MISSING_HEADER, dup_names[i], "2 times");
        free(b.data);
    }
    char *unknown_twice = test_replace(base, "{\n  ", "{\n  \"X\" : 1,\n  \"X\" : 2,\n  ");
    r = defaults();
    expect_body(&r, unknown_twice, GW_VERIFY_OK, NULL, NULL);
    free(unknown_twice);
    free(base);
}

static void test_body_forms(void **state)
{
    (void)state;
    struct run r = defaults();
    const char *bad[] = {"", " ", "null", "[]", "\"Notification\"", "{", "{\"Type\":}", "12"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect_body(&r, bad[i], GW_VERIFY_MALFORMED_HEADER, "", NULL);
    struct gw_verify_detail d;
    assert_int_equal(run_body(&r, NULL, 0, &d), GW_VERIFY_MALFORMED_HEADER);
    assert_int_equal(run_body(&r, NULL, 10, &d), GW_VERIFY_MALFORMED_HEADER);
    assert_int_equal(gw_verifier_sns.verify(NULL, &d), GW_VERIFY_MALFORMED_HEADER);
    assert_int_equal(gw_verifier_sns.verify(NULL, NULL), GW_VERIFY_MALFORMED_HEADER);

    struct msg m = notification();
    char *body = body_of(&m);
    size_t len = strlen(body);
    /* White space around the object is fine; anything else after it is not. */
    struct buf b = {0};
    puts_(&b, " \r\n\t");
    puts_(&b, body);
    puts_(&b, "\n \r\n");
    expect_body(&r, b.data, GW_VERIFY_OK, NULL, NULL);
    free(b.data);
    const char *tails[] = {"x", "{}", ",", "\n{\"Type\":\"Notification\"}"};
    for (size_t i = 0; i < 4; i++) {
        b = (struct buf){0};
        puts_(&b, body);
        puts_(&b, tails[i]);
        expect_body(&r, b.data, GW_VERIFY_MALFORMED_HEADER, "", "after its JSON value");
        free(b.data);
    }
    /* A raw NUL anywhere, and \u0000 inside a value, are refused. */
    char *raw = malloc(len + 2);
    assert_non_null(raw);
    memcpy(raw, body, len);
    raw[len] = '\0';
    raw[len + 1] = '\0';
    assert_int_equal(run_body(&r, raw, len + 1, &d), GW_VERIFY_MALFORMED_HEADER);
    assert_non_null(strstr(d.note, "NUL"));
    assert_int_equal(run_body(&r, raw, len, &d), GW_VERIFY_OK);
    free(raw);
    char *nul = test_replace(body, "line two", "line\\u0000two");
    expect_body(&r, nul, GW_VERIFY_MALFORMED_HEADER, "", "NUL");
    free(nul);
    free(body);
    /* The text "\u0000" (an escaped backslash, then u0000) is no NUL and verifies. */
    m = notification();
    m.message = "literal \\u0000 and \\\\u0000";
    expect_ok(&m);

    /* Size bound: GW_SNS_BODY_MAX bytes are read, one more is refused unparsed. */
    m = notification();
    body = body_of(&m);
    len = strlen(body);
    char *big = malloc(GW_SNS_BODY_MAX + 2);
    assert_non_null(big);
    memcpy(big, body, len);
    memset(big + len, ' ', GW_SNS_BODY_MAX + 1 - len);
    big[GW_SNS_BODY_MAX + 1] = '\0';
    assert_int_equal(run_body(&r, big, GW_SNS_BODY_MAX, &d), GW_VERIFY_OK);
    assert_int_equal(run_body(&r, big, GW_SNS_BODY_MAX + 1, &d), GW_VERIFY_MALFORMED_HEADER);
    assert_non_null(strstr(d.note, "longer than"));
    free(big);
    free(body);
    /* A big Message is signed and verified whole. */
    char *huge = malloc(BIG + 1);
    assert_non_null(huge);
    for (size_t i = 0; i < BIG; i++)
        huge[i] = "ab\"\\\n/\xc3\xa9"[i % 8];
    huge[BIG] = '\0';
    if ((unsigned char)huge[BIG - 1] == 0xc3)
        huge[BIG - 1] = 'x';
    m = notification();
    m.message = huge;
    expect_ok(&m);
    free(huge);
}

static void test_signature_forms(void **state)
{
    (void)state;
    struct msg m = notification();
    char *text = canonical(&m);
    char sig[1024];
    pki_sign_b64(pki.key, EVP_sha256(), text, strlen(text), sig, sizeof sig);
    free(text);
    char unpadded[1024];
    snprintf(unpadded, sizeof unpadded, "%s", sig);
    unpadded[strcspn(unpadded, "=")] = '\0';
    char spaced[1100];
    snprintf(spaced, sizeof spaced, "%.100s %s", sig, sig + 100);
    char huge[GW_SNS_SIGNATURE_B64_MAX + 8];
    memset(huge, 'A', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    const char *bad[] = {"", "!!!!", spaced, huge};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m.signature = bad[i];
        struct run r = defaults();
        expect_msg(&r, &m, GW_VERIFY_MALFORMED_HEADER, "Signature");
        assert_int_equal(r.lookup.calls, 0);
    }
    if (strcmp(unpadded, sig) != 0) {
        m.signature = unpadded;
        struct run r = defaults();
        expect_msg(&r, &m, GW_VERIFY_MALFORMED_HEADER, "Signature");
    }
    /* Well-formed base64 of the wrong size for the certificate's 2048-bit key. */
    unsigned char raw[512] = {7};
    char wrong[1024];
    const size_t sizes[] = {255, 257, 128, 512};
    for (size_t i = 0; i < 4; i++) {
        assert_true(gw_base64_encode(raw, sizes[i], wrong, sizeof wrong, 0) > 0);
        m.signature = wrong;
        struct run r = defaults();
        expect_msg(&r, &m, GW_VERIFY_MALFORMED_HEADER, "Signature");
        assert_int_equal(r.lookup.calls, 1);
    }
}

static void test_certificates(void **state)
{
    (void)state;
    struct msg m = notification();
    char *body = body_of(&m);
    /* The lookup fails (fetch failed, chain refused, ...): the reason is passed on. */
    struct run r = defaults();
    r.lookup.cert = NULL;
    r.lookup.why = "certificate refused: certificate has expired";
    expect_body(&r, body, GW_VERIFY_KEY_UNUSABLE, "SigningCertURL", "certificate has expired");
    r = defaults();
    r.no_lookup = true;
    expect_body(&r, body, GW_VERIFY_KEY_UNUSABLE, "SigningCertURL", "no certificate source");
    /* Certificates whose key cannot have made the signature. */
    X509 *unusable[] = {pki.ec_cert, pki.small_cert};
    for (size_t i = 0; i < 2; i++) {
        r = defaults();
        r.lookup.cert = unusable[i];
        expect_body(&r, body, GW_VERIFY_KEY_UNUSABLE, "SigningCertURL", "not RSA of 2048");
    }
    /* Another valid RSA certificate: the signature does not match it. */
    r = defaults();
    r.lookup.cert = pki.other_cert;
    expect_body(&r, body, GW_VERIFY_NO_SECRET_MATCHED, "Signature", NULL);
    free(body);
    /* Signed by the other key, checked with its certificate: fine. */
    m.sign_key = pki.other_key;
    r = defaults();
    r.lookup.cert = pki.other_cert;
    expect_msg(&r, &m, GW_VERIFY_OK, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_vectors),
        cmocka_unit_test(test_official_string_to_sign),
        cmocka_unit_test(test_every_type_and_version),
        cmocka_unit_test(test_detail_on_success),
        cmocka_unit_test(test_string_to_sign_matches),
        cmocka_unit_test(test_signed_fields_changed),
        cmocka_unit_test(test_signature_flipped),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_topics),
        cmocka_unit_test(test_cert_url_in_message),
        cmocka_unit_test(test_cert_url_rules),
        cmocka_unit_test(test_subscribe_url_rules),
        cmocka_unit_test(test_sign_round_trip),
        cmocka_unit_test(test_timestamps),
        cmocka_unit_test(test_fields),
        cmocka_unit_test(test_body_forms),
        cmocka_unit_test(test_signature_forms),
        cmocka_unit_test(test_certificates),
    };
    return cmocka_run_group_tests(tests, setup_pki, teardown_pki);
}
