/* test_key32.c — the 32-byte key type of the config (secrets_key): the forms it accepts and
 * refuses, and that it accepts exactly what the keyring (gateway/core/credentials.c) does,
 * with the same messages, so a key that loads is a key the keyring opens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config/key32.h"
#include "gateway/core/credentials.h"

/* Bytes 00..1f. */
#define KEY_A_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define KEY_A_B64 "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

_Static_assert(GW_CFG_KEY32_LEN == GW_CREDENTIALS_KEY_LEN, "one key length");

/* Decodes TEXT with both decoders and checks they agree on the result, the key and the
 * message. Returns what the config's decoder returned. */
static int both(const char *text, size_t len, unsigned char key[GW_CFG_KEY32_LEN], char *err,
                size_t err_len)
{
    unsigned char other[GW_CREDENTIALS_KEY_LEN];
    char other_err[256];
    int rc = gw_cfg_key32_decode(text, len, key, err, err_len);
    int other_rc = gw_credentials_key_decode(text, len, other, other_err, sizeof other_err);

    if (rc != other_rc || memcmp(key, other, sizeof other) != 0 || strcmp(err, other_err) != 0)
        fail_msg("the decoders disagree on %zu bytes (%d '%s' and %d '%s'): %.*s", len, rc, err,
                 other_rc, other_err, (int)len, text != NULL ? text : "");
    return rc;
}

static void decodes_to(const char *text, size_t len, const unsigned char *expected)
{
    unsigned char key[GW_CFG_KEY32_LEN];
    char err[256];

    if (both(text, len, key, err, sizeof err) != 0)
        fail_msg("refused a key of %zu bytes (%s): %.*s", len, err, (int)len, text);
    assert_memory_equal(key, expected, GW_CFG_KEY32_LEN);
}

/* Refused with a message that says what is wrong without repeating the value. */
static void refused(const char *text, size_t len, const char *why)
{
    unsigned char key[GW_CFG_KEY32_LEN];
    static const unsigned char zero[GW_CFG_KEY32_LEN] = {0};
    char err[256];

    memset(key, 0xaa, sizeof key);
    if (both(text, len, key, err, sizeof err) != -1)
        fail_msg("accepted a key of %zu bytes: %.*s", len, (int)len, text);
    assert_memory_equal(key, zero, sizeof key);
    if (strstr(err, why) == NULL)
        fail_msg("expected '%s' in: %s", why, err);
    if (text != NULL && len >= 8 && memmem(err, strlen(err), text, 8) != NULL)
        fail_msg("the message repeats the value: %s", err);
}

static void test_formats(void **state)
{
    (void)state;
    unsigned char a[GW_CFG_KEY32_LEN];
    unsigned char raw[GW_CFG_KEY32_LEN + 1];

    for (size_t i = 0; i < sizeof a; i++)
        a[i] = (unsigned char)i;
    /* Raw: exactly 32 bytes, whatever they are (whitespace and NUL included). */
    decodes_to((const char *)a, sizeof a, a);
    memset(raw, ' ', sizeof raw);
    raw[5] = '\n';
    raw[9] = '\0';
    decodes_to((const char *)raw, GW_CFG_KEY32_LEN, raw);

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

/* Every prefix of the valid encodings, and every one-character change of them to a
 * character that matters to one decoder or the other: the two never disagree. */
static void test_same_as_keyring(void **state)
{
    (void)state;
    static const char *const valid[] = {
        KEY_A_HEX,
        " " KEY_A_HEX "\n",
        KEY_A_B64,
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8",
        "\t" KEY_A_B64 "\r\n",
    };
    static const char subst[] = {'0', 'f', 'F', 'g',  'A',  '/',  '+',   '-',
                                 '_', '=', ' ', '\n', '\t', '\0', '\x80'};
    unsigned char key[GW_CFG_KEY32_LEN];
    char err[256];
    char buf[80];

    for (size_t v = 0; v < sizeof valid / sizeof valid[0]; v++) {
        size_t len = strlen(valid[v]);

        for (size_t n = 0; n <= len; n++)
            both(valid[v], n, key, err, sizeof err);
        for (size_t i = 0; i < len; i++) {
            for (size_t c = 0; c < sizeof subst; c++) {
                memcpy(buf, valid[v], len);
                buf[i] = subst[c];
                both(buf, len, key, err, sizeof err);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats),
        cmocka_unit_test(test_same_as_keyring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
