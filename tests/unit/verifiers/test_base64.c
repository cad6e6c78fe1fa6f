/* test_base64.c — the strict base64 decoder and encoder: RFC 4648 vectors, padding rules,
 * refused characters and whitespace, canonical trailing bits, output bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "verifiers/base64.h"

/* True when IN (NUL-terminated) decodes under FLAGS; the bytes are left in OUT. */
static bool decodes(const char *in, unsigned flags, unsigned char *out, size_t cap, size_t *out_len)
{
    return gw_base64_decode(in, strlen(in), out, cap, out_len, flags);
}

static void assert_refused(const char *in, size_t in_len, unsigned flags)
{
    unsigned char out[64];
    size_t out_len = 99;
    if (gw_base64_decode(in, in_len, out, sizeof out, &out_len, flags))
        fail_msg("\"%.*s\" (flags %u) decoded but must be refused", (int)in_len, in, flags);
    assert_int_equal(out_len, 0);
}

static void test_rfc4648_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *plain;
        const char *b64;
    } vectors[] = {{"", ""},
                   {"f", "Zg=="},
                   {"fo", "Zm8="},
                   {"foo", "Zm9v"},
                   {"foob", "Zm9vYg=="},
                   {"fooba", "Zm9vYmE="},
                   {"foobar", "Zm9vYmFy"}};
    for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
        const char *plain = vectors[i].plain;
        char enc[32];
        assert_int_equal(
            gw_base64_encode((const unsigned char *)plain, strlen(plain), enc, sizeof enc, 0),
            strlen(vectors[i].b64));
        assert_string_equal(enc, vectors[i].b64);
        assert_int_equal(GW_BASE64_ENCODED_LEN(strlen(plain)), strlen(vectors[i].b64));

        unsigned char dec[32];
        size_t dec_len = 99;
        assert_true(decodes(vectors[i].b64, 0, dec, sizeof dec, &dec_len));
        assert_int_equal(dec_len, strlen(plain));
        assert_memory_equal(dec, plain, dec_len);
    }
}

static void test_missing_padding(void **state)
{
    (void)state;
    unsigned char out[8];
    size_t n = 0;
    /* Strict by default. */
    assert_refused("Zg", 2, 0);
    assert_refused("Zm8", 3, 0);
    assert_refused("Zm9vYg", 6, 0);
    /* Tolerated with GW_BASE64_NOPAD, which still accepts the padded form. */
    assert_true(decodes("Zg", GW_BASE64_NOPAD, out, sizeof out, &n));
    assert_int_equal(n, 1);
    assert_memory_equal(out, "f", 1);
    assert_true(decodes("Zm8", GW_BASE64_NOPAD, out, sizeof out, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(out, "fo", 2);
    assert_true(decodes("Zm9vYmE", GW_BASE64_NOPAD, out, sizeof out, &n));
    assert_int_equal(n, 5);
    assert_memory_equal(out, "fooba", 5);
    assert_true(decodes("Zm8=", GW_BASE64_NOPAD, out, sizeof out, &n));
    assert_int_equal(n, 2);
    /* A lone character past a group is never a byte. */
    assert_refused("Zm9vY", 5, GW_BASE64_NOPAD);
    assert_refused("Z", 1, GW_BASE64_NOPAD);
}

static void test_bad_padding(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "Zg=",      /* partial padding */
        "Zg===",    /* too much */
        "Z===",     /* three '=' */
        "====",     /* nothing but padding */
        "Zm9v=",    /* padding after a full group */
        "Zm9v====", /* a whole group of padding */
        "=Zg=",     /* padding first */
        "Zg==Zg==", /* padding in the middle */
        "Zm=v",     /* '=' inside a group */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_refused(bad[i], strlen(bad[i]), 0);
        assert_refused(bad[i], strlen(bad[i]), GW_BASE64_NOPAD);
    }
}

static void test_invalid_characters(void **state)
{
    (void)state;
    assert_refused("Zm9!", 4, 0);
    assert_refused("Zm9.", 4, 0);
    assert_refused("Zm9-", 4, 0);             /* URL alphabet in standard mode */
    assert_refused("Zm9_", 4, 0);             /* URL alphabet in standard mode */
    assert_refused("Zm9+", 4, GW_BASE64_URL); /* standard alphabet in URL mode */
    assert_refused("Zm9/", 4, GW_BASE64_URL);
    assert_refused("Zm\0v", 4, 0);   /* NUL inside the given length */
    assert_refused("Zm9\xff", 4, 0); /* not ASCII */
    assert_refused("Zm9\xc3\xa9", 5, GW_BASE64_NOPAD);
}

static void test_whitespace_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {"Zm9v\n",   " Zm9v",  "Zm9v ",      "Zm 9v",
                                      "Zm9v\r\n", "Zm\t9v", "Zm9v\nZm9v", "Zg==\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_refused(bad[i], strlen(bad[i]), 0);
        assert_refused(bad[i], strlen(bad[i]), GW_BASE64_NOPAD | GW_BASE64_LAX_BITS);
    }
}

static void test_noncanonical_bits(void **state)
{
    (void)state;
    unsigned char out[4];
    size_t n = 0;
    /* 'h' = 0b100001: the low 4 bits, unused after one byte, are not zero. */
    assert_refused("Zh==", 4, 0);
    assert_true(decodes("Zh==", GW_BASE64_LAX_BITS, out, sizeof out, &n));
    assert_int_equal(n, 1);
    assert_memory_equal(out, "f", 1);
    /* '9' = 0b111101: the low 2 bits, unused after two bytes, are not zero. */
    assert_refused("Zm9=", 4, 0);
    assert_refused("Zm9", 3, GW_BASE64_NOPAD);
    assert_true(decodes("Zm9", GW_BASE64_NOPAD | GW_BASE64_LAX_BITS, out, sizeof out, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(out, "fo", 2);
}

static void test_output_bounds(void **state)
{
    (void)state;
    unsigned char out[8];
    memset(out, 0xaa, sizeof out);
    size_t n = 99;
    /* Too small: refused, output untouched. */
    assert_false(gw_base64_decode("Zm9v", 4, out, 2, &n, 0));
    assert_int_equal(n, 0);
    assert_int_equal(out[0], 0xaa);
    assert_true(gw_base64_decode("Zm9v", 4, out, 3, &n, 0));
    assert_int_equal(n, 3);
    /* Refused input leaves the output untouched as well. */
    memset(out, 0xaa, sizeof out);
    assert_false(gw_base64_decode("Zm9vZm9!", 8, out, sizeof out, &n, 0));
    assert_int_equal(out[0], 0xaa);
    assert_false(gw_base64_decode("Zm9v", 4, out, sizeof out, NULL, 0));

    char enc[8];
    assert_int_equal(gw_base64_encode((const unsigned char *)"foo", 3, enc, 4, 0), 0);
    assert_string_equal(enc, "");
    assert_int_equal(gw_base64_encode((const unsigned char *)"foo", 3, enc, 5, 0), 4);
    assert_string_equal(enc, "Zm9v");
    assert_int_equal(gw_base64_encode((const unsigned char *)"f", 1, enc, 4, 0), 0);
    assert_int_equal(gw_base64_encode((const unsigned char *)"f", 1, enc, 3, GW_BASE64_NOPAD), 2);
    assert_string_equal(enc, "Zg");
}

static void test_url_alphabet(void **state)
{
    (void)state;
    static const unsigned char bytes[] = {0xfb, 0xff, 0xbf};
    char enc[8];
    assert_int_equal(gw_base64_encode(bytes, 2, enc, sizeof enc, 0), 4);
    assert_string_equal(enc, "+/8=");
    assert_int_equal(gw_base64_encode(bytes, 2, enc, sizeof enc, GW_BASE64_URL), 4);
    assert_string_equal(enc, "-_8=");
    assert_int_equal(gw_base64_encode(bytes, 3, enc, sizeof enc, GW_BASE64_URL | GW_BASE64_NOPAD),
                     4);
    assert_string_equal(enc, "-_-_");

    unsigned char out[4];
    size_t n = 0;
    assert_true(decodes("-_8=", GW_BASE64_URL, out, sizeof out, &n));
    assert_int_equal(n, 2);
    assert_memory_equal(out, bytes, 2);
    assert_true(decodes("-_8", GW_BASE64_URL | GW_BASE64_NOPAD, out, sizeof out, &n));
    assert_int_equal(n, 2);
}

static void test_round_trip_all_bytes(void **state)
{
    (void)state;
    unsigned char bytes[256];
    for (size_t i = 0; i < sizeof bytes; i++)
        bytes[i] = (unsigned char)(255 - i);
    static const unsigned flag_sets[] = {0, GW_BASE64_URL, GW_BASE64_NOPAD,
                                         GW_BASE64_URL | GW_BASE64_NOPAD};
    for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
        for (size_t len = 0; len <= sizeof bytes; len++) {
            char enc[GW_BASE64_ENCODED_LEN(256) + 1];
            size_t enc_len = gw_base64_encode(bytes, len, enc, sizeof enc, flag_sets[f]);
            assert_int_equal(enc_len, strlen(enc));
            unsigned char dec[256];
            size_t dec_len = 99;
            assert_true(gw_base64_decode(enc, enc_len, dec, sizeof dec, &dec_len, flag_sets[f]));
            assert_int_equal(dec_len, len);
            assert_memory_equal(dec, bytes, len);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4648_vectors),      cmocka_unit_test(test_missing_padding),
        cmocka_unit_test(test_bad_padding),          cmocka_unit_test(test_invalid_characters),
        cmocka_unit_test(test_whitespace_refused),   cmocka_unit_test(test_noncanonical_bits),
        cmocka_unit_test(test_output_bounds),        cmocka_unit_test(test_url_alphabet),
        cmocka_unit_test(test_round_trip_all_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
