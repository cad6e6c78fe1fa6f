/* ct_compare.h — constant-time comparison of secrets and signatures. */
#ifndef CTGW_CT_COMPARE_H
#define CTGW_CT_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

/* True when the two byte strings are equal. The time taken depends only on the lengths,
 * never on where the first difference is; a length mismatch is not revealed early either
 * (the comparison runs over `expected_len` bytes whatever `given_len` is). */
bool gw_ct_equal(const void *given, size_t given_len, const void *expected, size_t expected_len);

#endif
