/* test_hmac.c — the helpers the HMAC schemes share: HMAC-SHA256 over pieces (RFC 4231
 * vectors), strict hex, timestamps and the window, and trying every secret. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tests/support/verify.h"
#include "verifiers/hmac.h"

/* RFC 4231 test case 2. */
#define RFC_KEY  "Jefe"
#define RFC_DATA "what do ya want for nothing?"
#define RFC_MAC  "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"

static void hex_of(const unsigned char *mac, char out[GW_HMAC_SHA256_HEX + 1])
{
    assert_int_equal(gw_hex_encode(mac, GW_HMAC_SHA256_SIZE, out, GW_HMAC_SHA256_HEX + 1),
                     GW_HMAC_SHA256_HEX);
}

static void test_rfc4231_in_pieces(void **state)
{
    (void)state;
    size_t n = strlen(RFC_DATA);
    /* Every way of cutting the message in two, and with empty pieces around: one MAC. */
    for (size_t cut = 0; cut <= n; cut++) {
        struct gw_hmac_piece pieces[] = {
            {NULL, 0}, {RFC_DATA, cut}, {"", 0}, {RFC_DATA + cut, n - cut}, {NULL, 0}};
        unsigned char mac[GW_HMAC_SHA256_SIZE];
        assert_true(gw_hmac_sha256(RFC_KEY, 4, pieces, 5, mac));
        char hex[GW_HMAC_SHA256_HEX + 1];
        hex_of(mac, hex);
        assert_string_equal(hex, RFC_MAC);
    }
    /* RFC 4231 test case 6: a 131-byte key, longer than the block, is hashed first. */
    unsigned char key[131];
    memset(key, 0xaa, sizeof key);
    static const char data[] = "Test Using Larger Than Block-Size Key - Hash Key First";
    struct gw_hmac_piece piece = {data, sizeof data - 1};
    unsigned char mac[GW_HMAC_SHA256_SIZE];
    assert_true(gw_hmac_sha256(key, sizeof key, &piece, 1, mac));
    char hex[GW_HMAC_SHA256_HEX + 1];
    hex_of(mac, hex);
    assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_hmac_refusals(void **state)
{
    (void)state;
    struct gw_hmac_piece piece = {RFC_DATA, strlen(RFC_DATA)};
    unsigned char mac[GW_HMAC_SHA256_SIZE];
    memset(mac, 0x77, sizeof mac);
    static const unsigned char zero[GW_HMAC_SHA256_SIZE] = {0};
    assert_false(gw_hmac_sha256("", 0, &piece, 1, mac)); /* empty key */
    assert_memory_equal(mac, zero, sizeof mac);
    memset(mac, 0x77, sizeof mac);
    assert_false(gw_hmac_sha256(NULL, 4, &piece, 1, mac));
    assert_memory_equal(mac, zero, sizeof mac);
    struct gw_hmac_piece bad = {NULL, 3};
    assert_false(gw_hmac_sha256(RFC_KEY, 4, &bad, 1, mac));
    assert_false(gw_hmac_sha256(RFC_KEY, 4, NULL, 1, mac));
    assert_false(gw_hmac_sha256(RFC_KEY, 4, &piece, 1, NULL));
    /* No pieces at all is the MAC of the empty message. */
    assert_true(gw_hmac_sha256(RFC_KEY, 4, NULL, 0, mac));
}

static void test_hex_round_trip(void **state)
{
    (void)state;
    unsigned char all[256];
    for (size_t i = 0; i < sizeof all; i++)
        all[i] = (unsigned char)i;
    char hex[513];
    assert_int_equal(gw_hex_encode(all, sizeof all, hex, sizeof hex), 512);
    assert_memory_equal(hex, "000102", 6);
    assert_memory_equal(hex + 506, "fdfeff", 7); /* lowercase, and the NUL */
    for (size_t i = 0; i < 512; i++)
        assert_true((hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f'));
    unsigned char back[256];
    size_t back_len = 0;
    assert_true(gw_hex_decode(hex, 512, back, sizeof back, &back_len, 0));
    assert_int_equal(back_len, 256);
    assert_memory_equal(back, all, sizeof all);

    /* Too small for the NUL: nothing, and OUT empty. */
    char small[5] = "xxxx";
    assert_int_equal(gw_hex_encode(all, 2, small, 4), 0);
    assert_string_equal(small, "");
    assert_int_equal(gw_hex_encode(all, 2, small, 5), 4);
    assert_string_equal(small, "0001");
    assert_int_equal(gw_hex_encode(NULL, 0, small, 5), 0);
    assert_string_equal(small, "");
    assert_int_equal(gw_hex_encode(NULL, 1, small, 5), 0);
}

static void test_hex_decode_strict(void **state)
{
    (void)state;
    unsigned char out[4] = {9, 9, 9, 9};
    size_t n = 99;
    static const char *const bad[] = {"0",   "abc", "0g", "g0", " 00", "00 ",
                                      "0 0", "-1",  "0x", "AB", "aB",  "\xff\xff"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = 99;
        if (gw_hex_decode(bad[i], strlen(bad[i]), out, sizeof out, &n, 0))
            fail_msg("\"%s\" decoded", bad[i]);
        assert_int_equal(n, 0);
        assert_int_equal(out[0], 9); /* untouched */
    }
    /* Uppercase only with GW_HEX_ANY_CASE. */
    assert_true(gw_hex_decode("AbCdEf", 6, out, sizeof out, &n, GW_HEX_ANY_CASE));
    assert_int_equal(n, 3);
    assert_int_equal(out[0], 0xab);
    assert_int_equal(out[2], 0xef);
    /* Does not fit: refused. Exactly fits: fine. Empty: zero bytes. */
    assert_false(gw_hex_decode("0011223344", 10, out, sizeof out, &n, 0));
    assert_true(gw_hex_decode("00112233", 8, out, sizeof out, &n, 0));
    assert_int_equal(n, 4);
    assert_true(gw_hex_decode("", 0, NULL, 0, &n, 0));
    assert_int_equal(n, 0);
    assert_false(gw_hex_decode("00", 2, out, sizeof out, NULL, 0));
    assert_false(gw_hex_decode(NULL, 2, out, sizeof out, &n, 0));
    /* A NUL inside the given length is not a digit. */
    assert_false(gw_hex_decode("0\0", 2, out, sizeof out, &n, 0));
}

static void test_parse_unix_time(void **state)
{
    (void)state;
    int64_t ts = -1;
    assert_true(gw_parse_unix_time("0", 1, &ts));
    assert_int_equal(ts, 0);
    assert_true(gw_parse_unix_time("1531420618", 10, &ts));
    assert_int_equal(ts, 1531420618);
    assert_true(gw_parse_unix_time("0001", 4, &ts));
    assert_int_equal(ts, 1);
    assert_true(gw_parse_unix_time("9223372036854775807", 19, &ts));
    assert_int_equal(ts, INT64_MAX);
    /* Only the given length is read. */
    assert_true(gw_parse_unix_time("12x", 2, &ts));
    assert_int_equal(ts, 12);
    static const char *const bad[] = {"",
                                      "-1",
                                      "+1",
                                      " 1",
                                      "1 ",
                                      "1.0",
                                      "0x1",
                                      "1e3",
                                      "a1",
                                      "9223372036854775808",
                                      "99999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (gw_parse_unix_time(bad[i], strlen(bad[i]), &ts))
            fail_msg("\"%s\" parsed", bad[i]);
    assert_false(gw_parse_unix_time(NULL, 1, &ts));
    assert_false(gw_parse_unix_time("1", 1, NULL));
}

static void test_window(void **state)
{
    (void)state;
    char note[160];
    const int64_t t = 1767225600;
    /* The edge is inside, one second more is outside, in both directions. */
    assert_true(gw_within_window(t, t + 300, 300, note, sizeof note));
    assert_true(gw_within_window(t, t - 300, 300, note, sizeof note));
    assert_false(gw_within_window(t, t + 301, 300, note, sizeof note));
    assert_string_equal(note, "timestamp 301 s in the past, tolerance 300 s");
    assert_false(gw_within_window(t, t - 301, 300, note, sizeof note));
    assert_string_equal(note, "timestamp 301 s in the future, tolerance 300 s");
    /* 0 is the default of 300 s. */
    assert_true(gw_within_window(t, t + GW_DEFAULT_TOLERANCE_S, 0, note, sizeof note));
    assert_false(gw_within_window(t, t + GW_DEFAULT_TOLERANCE_S + 1, 0, note, sizeof note));
    assert_string_equal(note, "timestamp 301 s in the past, tolerance 300 s");
    /* Other tolerances as given. */
    assert_true(gw_within_window(t, t + 1, 1, note, sizeof note));
    assert_false(gw_within_window(t, t + 2, 1, note, sizeof note));
    assert_true(gw_within_window(t, t + 900, 900, note, sizeof note));
    /* Extremes, without overflow. */
    assert_false(gw_within_window(INT64_MAX, (time_t)INT64_MIN, 300, note, sizeof note));
    assert_string_equal(note, "timestamp 18446744073709551615 s in the future, tolerance 300 s");
    assert_false(gw_within_window(0, (time_t)INT64_MAX, 300, note, sizeof note));
    assert_true(gw_within_window(INT64_MAX, (time_t)INT64_MIN, UINT64_MAX, note, sizeof note));
    /* No note buffer is fine. */
    assert_false(gw_within_window(t, t + 301, 300, NULL, 0));
}

static void test_find_secret(void **state)
{
    (void)state;
    struct gw_hmac_piece piece = {RFC_DATA, strlen(RFC_DATA)};
    unsigned char right[GW_HMAC_SHA256_SIZE];
    assert_true(gw_hmac_sha256(RFC_KEY, 4, &piece, 1, right));
    unsigned char wrong[GW_HMAC_SHA256_SIZE];
    memcpy(wrong, right, sizeof wrong);
    wrong[31] ^= 1;
    unsigned char cands[3 * GW_HMAC_SHA256_SIZE];
    memcpy(cands, wrong, 32);
    memcpy(cands + 32, wrong, 32);
    memcpy(cands + 64, right, 32);

    struct gw_secret secrets[] = {
        ts_secret("Jeff"), {NULL, 0}, ts_secret(""), ts_secret(RFC_KEY), ts_secret(RFC_KEY)};
    struct gw_hmac_match m = gw_hmac_find_secret(secrets, 5, &piece, 1, cands, 3);
    assert_int_equal(m.index, 3); /* the first that matches; unusable ones still count */
    assert_int_equal(m.usable, 2);
    assert_false(m.failed);

    /* Only the wrong candidates: nothing. */
    m = gw_hmac_find_secret(secrets, 5, &piece, 1, cands, 2);
    assert_int_equal(m.index, -1);
    assert_int_equal(m.usable, 3);
    /* No candidate at all: nothing, but the secrets were usable. */
    m = gw_hmac_find_secret(secrets, 5, &piece, 1, NULL, 0);
    assert_int_equal(m.index, -1);
    assert_int_equal(m.usable, 3);
    /* Only unusable secrets, or none. */
    m = gw_hmac_find_secret(secrets + 1, 2, &piece, 1, cands, 3);
    assert_int_equal(m.index, -1);
    assert_int_equal(m.usable, 0);
    assert_false(m.failed);
    m = gw_hmac_find_secret(NULL, 0, &piece, 1, cands, 3);
    assert_int_equal(m.usable, 0);
    m = gw_hmac_find_secret(NULL, 2, &piece, 1, cands, 3);
    assert_int_equal(m.index, -1);
    assert_int_equal(m.usable, 0);
    assert_true(gw_hmac_secret_usable(&secrets[0]));
    assert_false(gw_hmac_secret_usable(&secrets[1]));
    assert_false(gw_hmac_secret_usable(&secrets[2]));
    assert_false(gw_hmac_secret_usable(NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4231_in_pieces), cmocka_unit_test(test_hmac_refusals),
        cmocka_unit_test(test_hex_round_trip),    cmocka_unit_test(test_hex_decode_strict),
        cmocka_unit_test(test_parse_unix_time),   cmocka_unit_test(test_window),
        cmocka_unit_test(test_find_secret),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
