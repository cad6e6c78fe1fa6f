/* verify.h — what the verifier unit tests share: a secret made from a text, and the checks
 * that every path of every verifier must pass, whatever it answers. */
#ifndef CTGW_TESTS_SUPPORT_VERIFY_H
#define CTGW_TESTS_SUPPORT_VERIFY_H

#include "verifiers/verifier.h"

/* TEXT as a secret, as a config's secret reference hands it over; not copied. */
struct gw_secret ts_secret(const char *text);

/* Checks what the verifier that answered RES must have left in D, which the test filled with
 * garbage before the call: a NUL-terminated header and note, a note that says something and
 * does not repeat SECRET (NULL: nothing to look for), and secret_index -1 unless RES is
 * GW_VERIFY_OK. */
void ts_check_detail(const struct gw_verify_detail *d, enum gw_verify_result res,
                     const char *secret);

#endif
