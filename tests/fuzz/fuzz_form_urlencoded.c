/* fuzz_form_urlencoded.c — application/x-www-form-urlencoded decoding (verifiers/form.h):
 * the body reader with wanted fields of several capacities, and the value decoder. Input: the
 * body. */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "verifiers/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char ts[32], token[129], sig[65], tiny[2], decoded[1 << 16];
    struct gw_form_field fields[] = {
        {.name = "timestamp", .value = ts, .cap = sizeof ts},
        {.name = "token", .value = token, .cap = sizeof token},
        {.name = "signature", .value = sig, .cap = sizeof sig},
        {.name = "a b", .value = tiny, .cap = sizeof tiny}, /* '+' and %20 decode to a space */
        {.name = "count", .value = NULL, .cap = 0},         /* counted, never copied */
    };
    size_t n_fields = sizeof fields / sizeof fields[0];
    struct gw_form_error err = {0};
    bool ok = gw_form_urlencoded_read(data, size, fields, n_fields, &err);
    if (ok) {
        for (size_t i = 0; i < n_fields; i++) {
            FUZZ_CHECK(fields[i].cap == 0 || fields[i].len < fields[i].cap);
            FUZZ_CHECK(fields[i].count == 0 || fields[i].len <= size);
        }
    } else {
        FUZZ_CHECK(err.what != NULL && err.offset <= size);
    }

    size_t out_len = 99;
    if (gw_form_decode((const char *)data, size, decoded, sizeof decoded, &out_len))
        FUZZ_CHECK(out_len <= size);
    else
        FUZZ_CHECK(out_len == 0);
    /* The same into a buffer too small by one, when that is meaningful. */
    if (size > 0 && size <= sizeof decoded)
        gw_form_decode((const char *)data, size, decoded, size / 2, &out_len);
    return 0;
}
