/* fuzz_form_multipart.c — multipart/form-data (verifiers/form.h): the Content-Type parser and
 * the part reader. Input: a Content-Type line, then the body. When the line is not a
 * multipart type, the body is read with the boundary "b0undary" all the same. */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "verifiers/form.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char ctype[GW_FORM_CONTENT_TYPE_MAX + 64];
    static char ts[32], token[129], sig[65], attach[16];
    struct fuzz_input in = {data, size};
    fuzz_line(&in, ctype, sizeof ctype);

    struct gw_form_field fields[] = {
        {.name = "timestamp", .value = ts, .cap = sizeof ts},
        {.name = "token", .value = token, .cap = sizeof token},
        {.name = "signature", .value = sig, .cap = sizeof sig},
        {.name = "attachment-1", .value = attach, .cap = sizeof attach},
        {.name = "body-plain", .value = NULL, .cap = 0},
    };
    size_t n_fields = sizeof fields / sizeof fields[0];
    struct gw_form_type type;
    struct gw_form_error err = {0};
    if (gw_form_content_type(ctype, &type)) {
        FUZZ_CHECK(type.kind == GW_FORM_URLENCODED || type.kind == GW_FORM_MULTIPART);
        if (type.kind == GW_FORM_MULTIPART)
            FUZZ_CHECK(type.boundary_len >= 1 && type.boundary_len <= GW_FORM_BOUNDARY_MAX &&
                       strlen(type.boundary) == type.boundary_len);
        if (!gw_form_read(&type, in.p, in.n, fields, n_fields, &err))
            FUZZ_CHECK(err.what != NULL && err.offset <= in.n);
    } else {
        static const char boundary[] = "b0undary";
        if (!gw_form_multipart_read(in.p, in.n, boundary, sizeof boundary - 1, fields, n_fields,
                                    &err))
            FUZZ_CHECK(err.what != NULL && err.offset <= in.n);
    }
    for (size_t i = 0; i < n_fields; i++)
        FUZZ_CHECK(fields[i].cap == 0 || fields[i].len < fields[i].cap);
    return 0;
}
