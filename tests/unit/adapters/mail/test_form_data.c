/* test_form_data.c — relay form posts into fields: multipart through GMime (fields, files
 * with their names, types and Content-IDs, binary content, encoded parts, attached messages)
 * and urlencoded through verifiers/form.c, and the refusals: bad types, missing
 * dispositions, nested multiparts, too many parts, over-long names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "adapters/mail/form_data.h"

#define U(s)      ((const unsigned char *)(s))
#define MULTIPART "multipart/form-data; boundary=XyZ"

/* Reads TEXT as CT and expects RC. */
static struct gw_form_data *read_as(const char *ct, const char *text, size_t len,
                                    enum gw_form_data_rc rc)
{
    struct gw_form_data *form = NULL;
    char err[256] = "";
    enum gw_form_data_rc got = gw_form_data_read(ct, U(text), len, &form, err, sizeof err);
    if (got != rc)
        fail_msg("got %d, want %d: %s", (int)got, (int)rc, err);
    if (rc != GW_FORM_DATA_OK) {
        assert_null(form);
        assert_true(err[0] != '\0');
    }
    return form;
}

static void test_multipart_fields_and_files(void **state)
{
    (void)state;
    /* As SendGrid and Mailgun send it: CRLF lines, a file with binary bytes (a NUL, a bare
     * CR and LF), a base64 part, an attached message, a Content-ID, a UTF-8 file name. */
    static const char body[] =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"recipient\"\r\n\r\n"
        "support@acme.example\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"body-plain\"\r\n\r\n"
        "line one\r\n-- \r\nsig\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"attachment-1\"; filename=\"r\xc3\xa9port.bin\"\r\n"
        "Content-Type: Application/Octet-Stream\r\n"
        "Content-ID: <img1@acme>\r\n\r\n"
        "a\0b\rc\nd\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"encoded\"\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
        "aGVsbG8=\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"attachment-2\"; filename=\"fwd.eml\"\r\n"
        "Content-Type: message/rfc822\r\n\r\n"
        "Subject: inner\r\nMessage-ID: <in@x>\r\n\r\ninner body\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"recipient\"\r\n\r\n"
        "second@acme.example\r\n"
        "--XyZ--\r\n";
    struct gw_form_data *form = read_as(MULTIPART, body, sizeof body - 1, GW_FORM_DATA_OK);
    assert_int_equal(form->n, 6);
    /* Repeated: the first by get, nothing by text. */
    assert_int_equal(gw_form_data_count(form, "recipient"), 2);
    assert_string_equal(gw_form_data_get(form, "recipient")->data, "support@acme.example");
    assert_null(gw_form_data_text(form, "recipient"));
    assert_string_equal(gw_form_data_text(form, "body-plain"), "line one\r\n-- \r\nsig");
    const struct gw_form_data_field *f = gw_form_data_get(form, "attachment-1");
    assert_non_null(f);
    assert_string_equal(f->filename, "r\xc3\xa9port.bin");
    assert_string_equal(f->content_type, "application/octet-stream");
    assert_string_equal(f->content_id, "img1@acme");
    /* The CRLF before the next delimiter belongs to the delimiter, not to the content. */
    assert_int_equal(f->len, 7);
    assert_memory_equal(f->data, "a\0b\rc\nd", 7);
    /* A NUL byte: not a text field. */
    assert_null(gw_form_data_text(form, "attachment-1"));
    assert_string_equal(gw_form_data_text(form, "encoded"), "hello");
    f = gw_form_data_get(form, "attachment-2");
    assert_string_equal(f->content_type, "message/rfc822");
    assert_non_null(strstr((const char *)f->data, "Message-ID: <in@x>"));
    assert_non_null(strstr((const char *)f->data, "inner body"));
    /* Plain fields carry no name or type of their own. */
    f = gw_form_data_get(form, "body-plain");
    assert_null(f->filename);
    assert_null(f->content_type);
    assert_null(f->content_id);
    assert_null(gw_form_data_get(form, "absent"));
    gw_form_data_free(form);
}

static void test_urlencoded(void **state)
{
    (void)state;
    static const char body[] = "recipient=support%40acme.example&&subject=Hello+there%21"
                               "&empty=&alone&body-plain=a%0D%0Ab%00c";
    struct gw_form_data *form =
        read_as("application/x-www-form-urlencoded", body, sizeof body - 1, GW_FORM_DATA_OK);
    assert_int_equal(form->n, 5);
    assert_string_equal(gw_form_data_text(form, "recipient"), "support@acme.example");
    assert_string_equal(gw_form_data_text(form, "subject"), "Hello there!");
    assert_string_equal(gw_form_data_text(form, "empty"), "");
    assert_string_equal(gw_form_data_text(form, "alone"), "");
    const struct gw_form_data_field *f = gw_form_data_get(form, "body-plain");
    assert_int_equal(f->len, 6);
    assert_memory_equal(f->data, "a\r\nb\0c", 6);
    assert_null(gw_form_data_text(form, "body-plain"));
    gw_form_data_free(form);
    /* form.c's rules: a bad escape, a raw byte outside printable ASCII. */
    read_as("application/x-www-form-urlencoded", "a=%zz", 5, GW_FORM_DATA_INVALID);
    read_as("application/x-www-form-urlencoded", "a=b c", 5, GW_FORM_DATA_INVALID);
    /* An empty body is an empty form. */
    form = read_as("application/x-www-form-urlencoded", "", 0, GW_FORM_DATA_OK);
    assert_int_equal(form->n, 0);
    gw_form_data_free(form);
}

static void test_refused(void **state)
{
    (void)state;
    static const char one[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n"
                              "--XyZ--\r\n";
    /* Not a form type, no boundary, a header injected into the Content-Type. */
    read_as("text/plain", one, sizeof one - 1, GW_FORM_DATA_INVALID);
    read_as("multipart/form-data", one, sizeof one - 1, GW_FORM_DATA_INVALID);
    read_as("multipart/form-data; boundary=XyZ\r\nContent-Transfer-Encoding: base64", one,
            sizeof one - 1, GW_FORM_DATA_INVALID);
    read_as(NULL, one, sizeof one - 1, GW_FORM_DATA_INVALID);
    /* Another boundary than the body's: no part. */
    read_as("multipart/form-data; boundary=other", one, sizeof one - 1, GW_FORM_DATA_INVALID);
    /* No disposition, another disposition, no name. */
    static const char no_disp[] = "--XyZ\r\nContent-Type: text/plain\r\n\r\n1\r\n--XyZ--\r\n";
    read_as(MULTIPART, no_disp, sizeof no_disp - 1, GW_FORM_DATA_INVALID);
    static const char attach[] =
        "--XyZ\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--XyZ--\r\n";
    read_as(MULTIPART, attach, sizeof attach - 1, GW_FORM_DATA_INVALID);
    static const char no_name[] =
        "--XyZ\r\nContent-Disposition: form-data; filename=\"x\"\r\n\r\n1\r\n--XyZ--\r\n";
    read_as(MULTIPART, no_name, sizeof no_name - 1, GW_FORM_DATA_INVALID);
    /* A nested multipart (RFC 2388's files): refused. */
    static const char nested[] = "--XyZ\r\nContent-Disposition: form-data; name=\"files\"\r\n"
                                 "Content-Type: multipart/mixed; boundary=In\r\n\r\n"
                                 "--In\r\nContent-Disposition: file; filename=\"a\"\r\n\r\nA\r\n"
                                 "--In--\r\n--XyZ--\r\n";
    read_as(MULTIPART, nested, sizeof nested - 1, GW_FORM_DATA_INVALID);
}

/* A body of N parts named "f"; the caller frees it. */
static char *parts(size_t n, size_t *len)
{
    static const char part[] = "--XyZ\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nv\r\n";
    char *b = malloc(n * (sizeof part - 1) + 16);
    assert_non_null(b);
    size_t o = 0;
    for (size_t i = 0; i < n; i++, o += sizeof part - 1)
        memcpy(b + o, part, sizeof part - 1);
    memcpy(b + o, "--XyZ--\r\n", 9);
    *len = o + 9;
    return b;
}

static void test_bounds(void **state)
{
    (void)state;
    size_t len = 0;
    char *b = parts(GW_FORM_DATA_FIELDS_MAX, &len);
    struct gw_form_data *form = read_as(MULTIPART, b, len, GW_FORM_DATA_OK);
    assert_int_equal(gw_form_data_count(form, "f"), GW_FORM_DATA_FIELDS_MAX);
    gw_form_data_free(form);
    free(b);
    b = parts(GW_FORM_DATA_FIELDS_MAX + 1, &len);
    read_as(MULTIPART, b, len, GW_FORM_DATA_INVALID);
    free(b);
    /* So many part starts that GMime is not even asked. */
    b = parts(GW_FORM_DATA_DASH_LINES_MAX + 1, &len);
    read_as(MULTIPART, b, len, GW_FORM_DATA_INVALID);
    free(b);
    /* Urlencoded: the same bound on fields. */
    size_t n = GW_FORM_DATA_FIELDS_MAX + 1;
    char *u = malloc(n * 4 + 1);
    assert_non_null(u);
    for (size_t i = 0; i < n; i++)
        memcpy(u + i * 4, "a=1&", 4);
    read_as("application/x-www-form-urlencoded", u, n * 4, GW_FORM_DATA_INVALID);
    free(u);
    /* A name longer than GW_FORM_DATA_NAME_MAX. */
    char longer[GW_FORM_DATA_NAME_MAX + 200];
    char name[GW_FORM_DATA_NAME_MAX + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    int l = snprintf(longer, sizeof longer,
                     "--XyZ\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\nv\r\n--XyZ--\r\n",
                     name);
    read_as(MULTIPART, longer, (size_t)l, GW_FORM_DATA_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multipart_fields_and_files),
        cmocka_unit_test(test_urlencoded),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
