/* fuzz_ghl_template.c — a ghl-workflow job title made from a template and an untrusted
 * workflow body, as the adapter's apply does it. Input: the template's line, then the body.
 * The title must fit its buffer, stop at its character bound, be well-formed UTF-8 and hold
 * no control characters. */
#include <cjson/cJSON.h>

#include "adapters/ghl/template.h"
#include "gateway/base/text.h"
#include "tests/fuzz/fuzz.h"

#define TITLE_CHARS 300

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_input in = {data, size};
    char tmpl[512];
    fuzz_line(&in, tmpl, sizeof(tmpl));
    cJSON *root = cJSON_ParseWithLength((const char *)in.p, in.n);
    char big[TITLE_CHARS * 4 + 1], small[7];
    char *outs[] = {big, small};
    size_t caps[] = {sizeof(big), sizeof(small)};
    for (size_t k = 0; k < 2; k++) {
        size_t len = gw_ghl_template(tmpl, root, TITLE_CHARS, outs[k], caps[k]);
        FUZZ_CHECK(len < caps[k] && strlen(outs[k]) == len);
        size_t chars = 0;
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)outs[k][i];
            FUZZ_CHECK(c >= 0x20 && c != 0x7F);
            chars += (c & 0xC0) != 0x80;
        }
        FUZZ_CHECK(chars <= TITLE_CHARS);
        FUZZ_CHECK(gw_text_utf8_chars(outs[k], len, &chars));
        FUZZ_CHECK(len == 0 || (outs[k][0] != ' ' && outs[k][len - 1] != ' '));
    }
    cJSON_Delete(root);
    return 0;
}
