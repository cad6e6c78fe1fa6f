/* fuzz_captured_request.c — the reader of captured HTTP requests behind `ctgw verify
 * --request` (gateway/captured_request.h). Input: the file. */
#include <string.h>

#include "gateway/cli/captured_request.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct gw_captured_request r; /* 64 KiB: not on the stack */
    struct gw_captured_error err;
    if (gw_captured_request_parse(data, size, &r, &err) != 0) {
        FUZZ_CHECK(memchr(err.what, '\0', sizeof err.what) != NULL && err.what[0] != '\0');
        FUZZ_CHECK(err.offset <= size);
        return 0;
    }
    FUZZ_CHECK(r.head_len <= GW_CAPTURED_HEAD_MAX && r.head_len <= size);
    FUZZ_CHECK(r.body == data + r.head_len);
    FUZZ_CHECK(r.head_len + r.body_len + r.trailing == size);
    FUZZ_CHECK(r.trailing <= 2 && (r.trailing == 0 || r.content_length));
    FUZZ_CHECK(r.headers.n <= GW_CAPTURED_HEADERS_MAX && r.headers.items == r.items);
    FUZZ_CHECK(strlen(r.method) >= 1 && strlen(r.method) <= GW_CAPTURED_METHOD_MAX);
    FUZZ_CHECK(strlen(r.target) >= 1 && strlen(r.target) <= GW_CAPTURED_TARGET_MAX);
    for (size_t i = 0; i < r.headers.n; i++) {
        size_t nl = strlen(r.items[i].name);
        FUZZ_CHECK(nl >= 1 && nl <= GW_CAPTURED_NAME_MAX);
        FUZZ_CHECK(strchr(r.items[i].value, '\r') == NULL &&
                   strchr(r.items[i].value, '\n') == NULL);
        FUZZ_CHECK(r.items[i].name >= r.storage && r.items[i].value < r.storage + sizeof r.storage);
    }
    return 0;
}
