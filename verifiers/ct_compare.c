/* ct_compare.c — constant-time comparison of secrets and signatures. */
#include "verifiers/ct_compare.h"

bool gw_ct_equal(const void *given, size_t given_len, const void *expected, size_t expected_len)
{
    const unsigned char *g = given;
    const unsigned char *e = expected;
    unsigned char diff = given_len == expected_len ? 0 : 1;
    /* Walk the expected length whatever was given, reading the given bytes cyclically so a
     * short guess costs as long as a right-sized one. */
    for (size_t i = 0; i < expected_len; i++) {
        unsigned char gb = given_len ? g[i % given_len] : 0;
        diff |= (unsigned char)(gb ^ e[i]);
    }
    return diff == 0 && expected_len == given_len;
}
