/* test_credentials.c — sealed integration credentials: round trips, the keyring's current and
 * previous keys, tampering and moved ciphertexts refused, the key formats a config may use,
 * and key ids that stay the same for the same key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "gateway/core/credentials.h"

/* Bytes 00..1f and ff..e0, and their ids: "k" and the first 12 hex digits of SHA-256. */
#define KEY_A_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_A_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
#define KEY_A_ID  "k630dcd2966c4"
#define KEY_B_HEX "fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0efeeedecebeae9e8e7e6e5e4e3e2e1e0"
#define KEY_B_ID  "k1865c00831e7"

#define TOKEN "{\"refresh_token\":\"rt-0123456789abcdef\"}"

/* A config holding only what the keyring reads; its strings belong to the caller. */
struct keys_cfg {
    struct gw_config cfg;
    struct gw_secret previous[GW_CREDENTIALS_MAX_PREVIOUS_KEYS + 1];
};

static void set_secret(struct gw_secret *s, const char *text, size_t len)
{
    s->data = (char *)text;
    s->len = len;
}

static struct gw_keyring *keyring(const char *current, const char *const *previous,
                                  size_t n_previous)
{
    struct keys_cfg k;
    char err[256];

    memset(&k, 0, sizeof k);
    set_secret(&k.cfg.secrets_key, current, strlen(current));
    for (size_t i = 0; i < n_previous; i++)
        set_secret(&k.previous[i], previous[i], strlen(previous[i]));
    k.cfg.previous_secrets_keys = k.previous;
    k.cfg.n_previous_secrets_keys = n_previous;
    struct gw_keyring *ring = gw_keyring_from_config(&k.cfg, err, sizeof err);
    if (ring == NULL)
        fail_msg("keyring refused: %s", err);
    return ring;
}

static void seal(const struct gw_keyring *k, const char *provider, const char *external_id,
                 const char *text, unsigned char **blob, size_t *blob_len)
{
    assert_int_equal(
        gw_credentials_seal(k, provider, external_id, text, strlen(text), blob, blob_len), 0);
    assert_non_null(*blob);
}

/* Opening must fail and leave nothing behind. */
static void open_fails(const struct gw_keyring *k, const char *key_id, const char *provider,
                       const char *external_id, const unsigned char *blob, size_t blob_len)
{
    char *plain = (char *)"unchanged";
    size_t len = 99;

    assert_int_equal(
        gw_credentials_open(k, key_id, provider, external_id, blob, blob_len, &plain, &len), -1);
    assert_null(plain);
    assert_int_equal(len, 0);
}

static void opens_to(const struct gw_keyring *k, const char *key_id, const char *provider,
                     const char *external_id, const unsigned char *blob, size_t blob_len,
                     const char *expected)
{
    char *plain = NULL;
    size_t len = 0;

    assert_int_equal(
        gw_credentials_open(k, key_id, provider, external_id, blob, blob_len, &plain, &len), 0);
    assert_non_null(plain);
    assert_int_equal(len, strlen(expected));
    assert_memory_equal(plain, expected, len);
    assert_int_equal(plain[len], '\0');
    gw_credentials_free(plain, len);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct gw_keyring *k = keyring(KEY_A_HEX, NULL, 0);
    unsigned char *blob = NULL;
    unsigned char *again = NULL;
    size_t blob_len = 0;
    size_t again_len = 0;

    assert_string_equal(gw_keyring_current_id(k), KEY_A_ID);
    seal(k, "xero", "tenant-1", TOKEN, &blob, &blob_len);
    assert_int_equal(blob_len, strlen(TOKEN) + GW_CREDENTIALS_OVERHEAD);
    assert_int_equal(blob[0], 0x01);
    assert_null(memmem(blob, blob_len, "rt-0123456789abcdef", 19));
    opens_to(k, KEY_A_ID, "xero", "tenant-1", blob, blob_len, TOKEN);

    /* A fresh nonce each time: the same plaintext never seals to the same bytes. */
    seal(k, "xero", "tenant-1", TOKEN, &again, &again_len);
    assert_int_equal(again_len, blob_len);
    assert_memory_not_equal(again + 1, blob + 1, 12);
    assert_memory_not_equal(again + 13, blob + 13, blob_len - 13);
    opens_to(k, KEY_A_ID, "xero", "tenant-1", again, again_len, TOKEN);

    free(blob);
    free(again);
    gw_keyring_free(k);
}

static void test_empty_and_largest_plaintexts(void **state)
{
    (void)state;
    struct gw_keyring *k = keyring(KEY_A_HEX, NULL, 0);
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    char *big = malloc(GW_CREDENTIALS_MAX_PLAINTEXT + 2);
    assert_non_null(big);

    assert_int_equal(gw_credentials_seal(k, "xero", "t", "", 0, &blob, &blob_len), 0);
    assert_int_equal(blob_len, GW_CREDENTIALS_OVERHEAD);
    opens_to(k, KEY_A_ID, "xero", "t", blob, blob_len, "");
    free(blob);

    /* The largest blob still fits integrations.credentials_ciphertext, VARBINARY(8192). */
    memset(big, 'x', GW_CREDENTIALS_MAX_PLAINTEXT + 1);
    big[GW_CREDENTIALS_MAX_PLAINTEXT] = '\0';
    seal(k, "xero", "t", big, &blob, &blob_len);
    assert_int_equal(blob_len, 8192);
    opens_to(k, KEY_A_ID, "xero", "t", blob, blob_len, big);
    free(blob);

    blob = (unsigned char *)"unchanged";
    assert_int_equal(gw_credentials_seal(k, "xero", "t", big, GW_CREDENTIALS_MAX_PLAINTEXT + 1,
                                         &blob, &blob_len),
                     -1);
    assert_null(blob);
    free(big);
    gw_keyring_free(k);
}

static void test_bad_arguments_refused(void **state)
{
    (void)state;
    struct gw_keyring *k = keyring(KEY_A_HEX, NULL, 0);
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    char *plain = NULL;
    size_t len = 0;

    assert_int_equal(gw_credentials_seal(NULL, "xero", "t", "x", 1, &blob, &blob_len), -1);
    assert_int_equal(gw_credentials_seal(k, NULL, "t", "x", 1, &blob, &blob_len), -1);
    assert_int_equal(gw_credentials_seal(k, "xero", "", "x", 1, &blob, &blob_len), -1);
    assert_int_equal(gw_credentials_seal(k, "xero", "t", NULL, 1, &blob, &blob_len), -1);
    assert_int_equal(gw_credentials_seal(k, "xero", "t", "x", 1, NULL, &blob_len), -1);
    assert_null(blob);

    seal(k, "xero", "t", TOKEN, &blob, &blob_len);
    assert_int_equal(gw_credentials_open(k, NULL, "xero", "t", blob, blob_len, &plain, &len), -1);
    assert_int_equal(gw_credentials_open(NULL, KEY_A_ID, "xero", "t", blob, blob_len, &plain, &len),
                     -1);
    assert_int_equal(gw_credentials_open(k, KEY_A_ID, "xero", "t", NULL, blob_len, &plain, &len),
                     -1);
    assert_null(plain);
    free(blob);

    gw_credentials_free(NULL, 0);
    gw_keyring_free(NULL);
    assert_null(gw_keyring_current_id(NULL));
    gw_keyring_free(k);
}

static void test_wrong_key_refused(void **state)
{
    (void)state;
    struct gw_keyring *a = keyring(KEY_A_HEX, NULL, 0);
    struct gw_keyring *b = keyring(KEY_B_HEX, NULL, 0);
    unsigned char *blob = NULL;
    size_t blob_len = 0;

    seal(a, "xero", "tenant-1", TOKEN, &blob, &blob_len);
    /* B does not know A's id at all; and claiming B sealed it fails on the tag. */
    assert_false(gw_keyring_has(b, KEY_A_ID));
    open_fails(b, KEY_A_ID, "xero", "tenant-1", blob, blob_len);
    open_fails(b, KEY_B_ID, "xero", "tenant-1", blob, blob_len);
    open_fails(a, "k000000000000", "xero", "tenant-1", blob, blob_len);
    free(blob);
    gw_keyring_free(a);
    gw_keyring_free(b);
}

static void test_previous_key_opens(void **state)
{
    (void)state;
    static const char *const previous[] = {KEY_A_HEX};
    struct gw_keyring *old = keyring(KEY_A_HEX, NULL, 0);
    struct gw_keyring *rotated = keyring(KEY_B_HEX, previous, 1);
    unsigned char *blob = NULL;
    unsigned char *resealed = NULL;
    size_t blob_len = 0;
    size_t resealed_len = 0;
    char *plain = NULL;
    size_t len = 0;

    seal(old, "xero", "tenant-1", TOKEN, &blob, &blob_len);
    assert_string_equal(gw_keyring_current_id(rotated), KEY_B_ID);
    assert_true(gw_keyring_has(rotated, KEY_A_ID));
    assert_true(gw_keyring_has(rotated, KEY_B_ID));
    assert_int_equal(
        gw_credentials_open(rotated, KEY_A_ID, "xero", "tenant-1", blob, blob_len, &plain, &len),
        0);
    assert_string_equal(plain, TOKEN);

    /* What the rotated keyring seals is under the new key, which the old one cannot open. */
    assert_int_equal(
        gw_credentials_seal(rotated, "xero", "tenant-1", plain, len, &resealed, &resealed_len), 0);
    gw_credentials_free(plain, len);
    opens_to(rotated, KEY_B_ID, "xero", "tenant-1", resealed, resealed_len, TOKEN);
    open_fails(rotated, KEY_A_ID, "xero", "tenant-1", resealed, resealed_len);
    open_fails(old, KEY_B_ID, "xero", "tenant-1", resealed, resealed_len);

    free(blob);
    free(resealed);
    gw_keyring_free(old);
    gw_keyring_free(rotated);
}

static void test_tampering_refused(void **state)
{
    (void)state;
    struct gw_keyring *k = keyring(KEY_A_HEX, NULL, 0);
    unsigned char *blob = NULL;
    size_t blob_len = 0;

    seal(k, "xero", "tenant-1", TOKEN, &blob, &blob_len);
    /* The version byte, the first and last nonce bytes, the ciphertext, and the tag. */
    const size_t at[] = {0, 1, 12, 13, blob_len / 2, blob_len - 17, blob_len - 16, blob_len - 1};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        blob[at[i]] ^= 0x01;
        open_fails(k, KEY_A_ID, "xero", "tenant-1", blob, blob_len);
        blob[at[i]] ^= 0x01;
    }
    /* Cut short, or too short to hold a nonce and a tag. */
    open_fails(k, KEY_A_ID, "xero", "tenant-1", blob, blob_len - 1);
    open_fails(k, KEY_A_ID, "xero", "tenant-1", blob, GW_CREDENTIALS_OVERHEAD - 1);
    open_fails(k, KEY_A_ID, "xero", "tenant-1", blob, 0);
    opens_to(k, KEY_A_ID, "xero", "tenant-1", blob, blob_len, TOKEN);
    free(blob);
    gw_keyring_free(k);
}

static void test_moved_ciphertext_refused(void **state)
{
    (void)state;
    struct gw_keyring *k = keyring(KEY_A_HEX, NULL, 0);
    unsigned char *blob = NULL;
    size_t blob_len = 0;

    seal(k, "xero", "tenant-1", TOKEN, &blob, &blob_len);
    open_fails(k, KEY_A_ID, "slack", "tenant-1", blob, blob_len);
    open_fails(k, KEY_A_ID, "xero", "tenant-2", blob, blob_len);
    open_fails(k, KEY_A_ID, "xero", "Tenant-1", blob, blob_len);
    /* The NUL between the names keeps "xero"+"tenant-1" apart from "xerot"+"enant-1". */
    open_fails(k, KEY_A_ID, "xerot", "enant-1", blob, blob_len);
    open_fails(k, KEY_A_ID, "tenant-1", "xero", blob, blob_len);
    opens_to(k, KEY_A_ID, "xero", "tenant-1", blob, blob_len, TOKEN);
    free(blob);
    gw_keyring_free(k);
}

static void decodes_to(const char *text, size_t len, const unsigned char *expected)
{
    unsigned char key[GW_CREDENTIALS_KEY_LEN];
    char err[256];

    if (gw_credentials_key_decode(text, len, key, err, sizeof err) != 0)
        fail_msg("refused a key of %zu bytes (%s): %.*s", len, err, (int)len, text);
    assert_memory_equal(key, expected, GW_CREDENTIALS_KEY_LEN);
}

/* Refused with a message that says what is wrong without repeating the value. */
static void refused(const char *text, size_t len, const char *why)
{
    unsigned char key[GW_CREDENTIALS_KEY_LEN];
    static const unsigned char zero[GW_CREDENTIALS_KEY_LEN] = {0};
    char err[256];

    memset(key, 0xaa, sizeof key);
    if (gw_credentials_key_decode(text, len, key, err, sizeof err) != -1)
        fail_msg("accepted a key of %zu bytes: %.*s", len, (int)len, text);
    assert_memory_equal(key, zero, sizeof key);
    if (strstr(err, why) == NULL)
        fail_msg("expected '%s' in: %s", why, err);
    if (text != NULL && len >= 8 && memmem(err, strlen(err), text, 8) != NULL)
        fail_msg("the message repeats the value: %s", err);
}

static void test_key_formats(void **state)
{
    (void)state;
    unsigned char a[GW_CREDENTIALS_KEY_LEN];
    unsigned char raw[GW_CREDENTIALS_KEY_LEN + 1];

    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (unsigned char)i;
    /* Raw: exactly 32 bytes, whatever they are (whitespace and NUL included). */
    decodes_to((const char *)a, sizeof a, a);
    memset(raw, ' ', sizeof raw);
    raw[5] = '\n';
    raw[9] = '\0';
    decodes_to((const char *)raw, GW_CREDENTIALS_KEY_LEN, raw);

    decodes_to(KEY_A_HEX, strlen(KEY_A_HEX), a);
    decodes_to(KEY_A_HEX "\n", strlen(KEY_A_HEX) + 1, a);
    decodes_to("  " KEY_A_HEX " \r\n", strlen(KEY_A_HEX) + 5, a);
    decodes_to("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", 64, a);
    decodes_to(KEY_A_B64, strlen(KEY_A_B64), a);
    decodes_to(KEY_A_B64 "\n", strlen(KEY_A_B64) + 1, a);
    decodes_to("\t" KEY_A_B64 "  ", strlen(KEY_A_B64) + 3, a);
    decodes_to(KEY_A_B64, strlen(KEY_A_B64) - 1, a); /* without its padding */

    /* 31 and 33 raw bytes; 63 and 65 hex digits; base64 of 31 and 33 bytes. */
    refused((const char *)a, 31, "got 31 bytes");
    refused((const char *)raw, 33, "got 33 bytes");
    refused(KEY_A_HEX, 63, "got 63 bytes");
    refused(KEY_A_HEX "0", 65, "got 65 bytes");
    refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==", 44, "base64 of 32 bytes");
    refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g", 44, "base64 of 32 bytes");
    refused("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g", 64, "64 hex");
    refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh-=", 44, "got 44"); /* not standard */
    refused("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=", 44, "got 44"); /* stray low bits */
    refused("000102030405060708090a0b0c0d 0e0f101112131415161718191a1b1c1d1e1f", 65, "got 65");
    refused("", 0, "got 0 bytes");
    refused(NULL, 32, "no key");
    /* 32 printable characters: `openssl rand -hex 16`, `-base64 24`, a passphrase. */
    refused("00112233445566778899aabbccddeeff", 32, "not 32 random bytes");
    refused("q83vEjRWeJq83vEjRWeJq83vEjRWeJq8", 32, "openssl rand -hex 32");
    refused("correct horse battery staple!!!!", 32, "passphrase");
}

static void test_keyring_refuses_bad_keys(void **state)
{
    (void)state;
    struct keys_cfg k;
    char err[256];

    memset(&k, 0, sizeof k);
    assert_null(gw_keyring_from_config(&k.cfg, err, sizeof err));
    assert_non_null(strstr(err, "secrets_key is not configured"));
    assert_null(gw_keyring_from_config(NULL, err, sizeof err));

    set_secret(&k.cfg.secrets_key, KEY_A_HEX, 62);
    assert_null(gw_keyring_from_config(&k.cfg, err, sizeof err));
    assert_non_null(strstr(err, "secrets_key: expected 32 bytes"));
    assert_non_null(strstr(err, "got 62 bytes"));
    assert_null(strstr(err, "0001020304")); /* never the key itself */

    set_secret(&k.cfg.secrets_key, KEY_A_HEX, 64);
    set_secret(&k.previous[0], KEY_B_HEX, 64);
    set_secret(&k.previous[1], "0123456789abcdef0123456789abcdef0", 33);
    k.cfg.previous_secrets_keys = k.previous;
    k.cfg.n_previous_secrets_keys = 2;
    assert_null(gw_keyring_from_config(&k.cfg, err, sizeof err));
    assert_non_null(strstr(err, "previous_secrets_keys[1]: expected 32 bytes"));
    assert_non_null(strstr(err, "got 33 bytes"));

    k.cfg.n_previous_secrets_keys = GW_CREDENTIALS_MAX_PREVIOUS_KEYS + 1;
    for (size_t i = 0; i < k.cfg.n_previous_secrets_keys; i++)
        set_secret(&k.previous[i], KEY_B_HEX, 64);
    assert_null(gw_keyring_from_config(&k.cfg, err, sizeof err));
    assert_non_null(strstr(err, "at most 8"));
}

static void test_key_id_stable(void **state)
{
    (void)state;
    static const char *const same_as_current[] = {KEY_A_B64, KEY_B_HEX};
    unsigned char raw[GW_CREDENTIALS_KEY_LEN];

    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (unsigned char)i;
    struct gw_keyring *hex = keyring(KEY_A_HEX, NULL, 0);
    struct gw_keyring *b64 = keyring(KEY_A_B64 "\n", NULL, 0);
    struct gw_keyring *both = keyring(KEY_A_HEX, same_as_current, 2);
    struct keys_cfg k;
    char err[256];
    memset(&k, 0, sizeof k);
    set_secret(&k.cfg.secrets_key, (const char *)raw, sizeof raw);
    struct gw_keyring *bytes = gw_keyring_from_config(&k.cfg, err, sizeof err);
    assert_non_null(bytes);

    /* The same key written three ways has one id, from the key alone. */
    assert_string_equal(gw_keyring_current_id(hex), KEY_A_ID);
    assert_string_equal(gw_keyring_current_id(b64), KEY_A_ID);
    assert_string_equal(gw_keyring_current_id(bytes), KEY_A_ID);
    assert_string_equal(gw_keyring_current_id(both), KEY_A_ID);
    assert_true(gw_keyring_has(both, KEY_B_ID));
    assert_int_equal(strlen(KEY_A_ID) + 1, GW_CREDENTIALS_KEY_ID_SIZE);

    /* What one keyring sealed, another built from the same key opens. */
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    seal(hex, "xero", "tenant-1", TOKEN, &blob, &blob_len);
    opens_to(bytes, gw_keyring_current_id(hex), "xero", "tenant-1", blob, blob_len, TOKEN);
    free(blob);

    gw_keyring_free(hex);
    gw_keyring_free(b64);
    gw_keyring_free(both);
    gw_keyring_free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_and_largest_plaintexts),
        cmocka_unit_test(test_bad_arguments_refused),
        cmocka_unit_test(test_wrong_key_refused),
        cmocka_unit_test(test_previous_key_opens),
        cmocka_unit_test(test_tampering_refused),
        cmocka_unit_test(test_moved_ciphertext_refused),
        cmocka_unit_test(test_key_formats),
        cmocka_unit_test(test_keyring_refuses_bad_keys),
        cmocka_unit_test(test_key_id_stable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
