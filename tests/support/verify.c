/* verify.c — what the verifier unit tests share. */
#include "tests/support/verify.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

struct gw_secret ts_secret(const char *text)
{
    return (struct gw_secret){.data = (char *)text, .len = strlen(text)};
}

void ts_check_detail(const struct gw_verify_detail *d, enum gw_verify_result res,
                     const char *secret)
{
    assert_non_null(memchr(d->header, '\0', sizeof d->header));
    assert_non_null(memchr(d->note, '\0', sizeof d->note));
    if (secret != NULL)
        assert_null(strstr(d->note, secret));
    assert_true(strlen(d->note) > 0);
    if (res != GW_VERIFY_OK)
        assert_int_equal(d->secret_index, -1);
}
