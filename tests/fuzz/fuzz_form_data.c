/* fuzz_form_data.c — a relay's form post into all its fields (adapters/mail/form_data.h):
 * multipart through GMime, urlencoded through form.c and the splitter. Input: a Content-Type
 * line, then the body. When the line is not a form type, the body is read as multipart with
 * the boundary "b0undary" all the same. Every field is checked against the header's bounds. */
#include <string.h>

#include "adapters/mail/form_data.h"
#include "tests/fuzz/fuzz.h"

static void check_string(const char *s, size_t max)
{
    FUZZ_CHECK(s == NULL || strlen(s) <= max);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char ctype[1100];
    struct fuzz_input in = {data, size};
    fuzz_line(&in, ctype, sizeof ctype);
    if (strncmp(ctype, "multipart/", 10) != 0 && strncmp(ctype, "application/", 12) != 0)
        strcpy(ctype, "multipart/form-data; boundary=b0undary");
    struct gw_form_data *form = NULL;
    char err[160] = "";
    enum gw_form_data_rc rc = gw_form_data_read(ctype, in.p, in.n, &form, err, sizeof err);
    if (rc != GW_FORM_DATA_OK) {
        FUZZ_CHECK(form == NULL && err[0] != '\0');
        return 0;
    }
    FUZZ_CHECK(form != NULL && form->n <= GW_FORM_DATA_FIELDS_MAX);
    for (size_t i = 0; i < form->n; i++) {
        const struct gw_form_data_field *f = &form->fields[i];
        FUZZ_CHECK(f->name != NULL && f->name[0] != '\0');
        check_string(f->name, GW_FORM_DATA_NAME_MAX);
        check_string(f->filename, GW_FORM_DATA_FILENAME_MAX);
        check_string(f->content_type, GW_FORM_DATA_TYPE_MAX);
        check_string(f->content_id, GW_FORM_DATA_FILENAME_MAX);
        FUZZ_CHECK(f->data != NULL && f->data[f->len] == '\0');
        /* Decoding never makes more than came in, but for an attached message GMime writes
         * out again (it may add line ends). */
        FUZZ_CHECK(f->len <= 2 * in.n + 4096);
        FUZZ_CHECK(gw_form_data_get(form, f->name) != NULL);
    }
    gw_form_data_free(form);
    return 0;
}
