/* test_form.c — the strict form readers (form.c): Content-Type, x-www-form-urlencoded and
 * multipart/form-data, their bounds, and that no malformed or cut body is read past its end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "verifiers/form.h"

/* Three wanted fields with small buffers, reset by every read. */
struct want3 {
    char a[16], b[16], c[4];
    struct gw_form_field f[3];
};

static void want3_init(struct want3 *w)
{
    memset(w, 0, sizeof *w);
    w->f[0] = (struct gw_form_field){.name = "a", .value = w->a, .cap = sizeof w->a};
    w->f[1] = (struct gw_form_field){.name = "b", .value = w->b, .cap = sizeof w->b};
    w->f[2] = (struct gw_form_field){.name = "c d", .value = w->c, .cap = sizeof w->c};
}

/* Copies TEXT to the heap without its NUL, so that ASan sees any read past the end. */
static unsigned char *exact(const char *text, size_t len)
{
    unsigned char *p = malloc(len > 0 ? len : 1);
    assert_non_null(p);
    memcpy(p, text, len);
    return p;
}

static bool url_read(const char *text, struct want3 *w, struct gw_form_error *err)
{
    size_t len = strlen(text);
    unsigned char *body = exact(text, len);
    bool ok = gw_form_urlencoded_read(body, len, w->f, 3, err);
    free(body);
    return ok;
}

static bool mp_read(const char *text, size_t len, const char *boundary, struct want3 *w,
                    struct gw_form_error *err)
{
    unsigned char *body = exact(text, len);
    bool ok = gw_form_multipart_read(body, len, boundary, strlen(boundary), w->f, 3, err);
    free(body);
    return ok;
}

static void test_content_type(void **state)
{
    (void)state;
    struct gw_form_type t;
    assert_true(gw_form_content_type("application/x-www-form-urlencoded", &t));
    assert_int_equal(t.kind, GW_FORM_URLENCODED);
    assert_true(gw_form_content_type("Application/X-WWW-Form-Urlencoded; charset=utf-8", &t));
    assert_int_equal(t.kind, GW_FORM_URLENCODED);
    assert_true(gw_form_content_type("multipart/form-data; boundary=abc", &t));
    assert_int_equal(t.kind, GW_FORM_MULTIPART);
    assert_string_equal(t.boundary, "abc");
    assert_int_equal(t.boundary_len, 3);
    assert_true(gw_form_content_type("multipart/form-data;boundary=\"a b:c?\" ; charset=x", &t));
    assert_string_equal(t.boundary, "a b:c?");
    assert_true(gw_form_content_type("MULTIPART/FORM-DATA; BOUNDARY=------------------------"
                                     "d74496d66958873e",
                                     &t));
    assert_string_equal(t.boundary, "------------------------d74496d66958873e");
    char seventy[128] = "multipart/form-data; boundary=";
    memset(seventy + strlen(seventy), 'x', 70);
    assert_true(gw_form_content_type(seventy, &t));
    assert_int_equal(t.boundary_len, 70);
    strcat(seventy, "x"); /* 71 */
    assert_false(gw_form_content_type(seventy, &t));

    static const char *const bad[] = {
        "",
        "text/plain",
        "application/json",
        "multipart/form-data",                         /* no boundary */
        "multipart/form-data; charset=utf-8",          /* still none */
        "multipart/form-data; boundary=",              /* empty */
        "multipart/form-data; boundary=\"\"",          /* empty */
        "multipart/form-data; boundary=a; boundary=b", /* two */
        "multipart/form-data; boundary=\"abc ",        /* unterminated */
        "multipart/form-data; boundary=\"abc \"",      /* ends in a space */
        "multipart/form-data; boundary=ab!c",          /* '!' is no bchar */
        "multipart/form-data; boundary=\"a\\\"b\"",    /* backslash */
        "multipart/form-data; boundary = abc",         /* spaces around '=' */
        "multipart/form-data; boundary=abc;",          /* a ';' with nothing after */
        "multipart/form-data boundary=abc",            /* no ';' */
        "multipart/form-datax; boundary=abc",          /* another type */
        "multipart/mixed; boundary=abc",
        "application/x-www-form-urlencoded; charset",    /* a parameter without '=' */
        "application/x-www-form-urlencoded;; charset=x", /* an empty parameter */
        "application/x-www-form-urlencoded\x01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (gw_form_content_type(bad[i], &t))
            fail_msg("\"%s\" accepted", bad[i]);
    assert_false(gw_form_content_type(NULL, &t));
    char long_ct[GW_FORM_CONTENT_TYPE_MAX + 8] = "application/x-www-form-urlencoded; x=";
    size_t at = strlen(long_ct);
    memset(long_ct + at, 'y', GW_FORM_CONTENT_TYPE_MAX - at);
    long_ct[GW_FORM_CONTENT_TYPE_MAX] = '\0';
    assert_true(gw_form_content_type(long_ct, &t));
    long_ct[GW_FORM_CONTENT_TYPE_MAX] = 'y';
    long_ct[GW_FORM_CONTENT_TYPE_MAX + 1] = '\0';
    assert_false(gw_form_content_type(long_ct, &t));
}

static void test_decode(void **state)
{
    (void)state;
    char out[32];
    size_t n = 0;
    assert_true(gw_form_decode("a+b%20c%2b%2B%41%7e%00z", 23, out, sizeof out, &n));
    assert_int_equal(n, 11);
    assert_memory_equal(out, "a b c++A~\0z", 11);
    static const char *const bad[] = {"%", "%4", "%zz", "%4g", "a b", "a\tb", "\xc3\xa9", "%%41"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (gw_form_decode(bad[i], strlen(bad[i]), out, sizeof out, &n))
            fail_msg("\"%s\" decoded", bad[i]);
        assert_int_equal(n, 0);
    }
    assert_false(gw_form_decode("abcd", 4, out, 3, &n)); /* does not fit */
    assert_true(gw_form_decode("abc", 3, out, 3, &n));
    assert_true(gw_form_decode("", 0, NULL, 0, &n));
    assert_int_equal(n, 0);
}

static void test_urlencoded(void **state)
{
    (void)state;
    struct want3 w;
    want3_init(&w);
    struct gw_form_error err = {0, NULL};
    assert_true(url_read("x=1&a=h%C3%A9llo+w&&b=&c+d=xyz&b=2&z&a=second&", &w, &err));
    assert_int_equal(w.f[0].count, 2); /* the first one kept */
    assert_int_equal(w.f[0].len, 8);
    assert_string_equal(w.a, "h\xc3\xa9llo w");
    assert_int_equal(w.f[1].count, 2);
    assert_int_equal(w.f[1].len, 0);
    assert_string_equal(w.b, "");
    assert_int_equal(w.f[2].count, 1); /* the name is decoded before comparing */
    assert_string_equal(w.c, "xyz");
    assert_false(w.f[2].too_long);

    /* A name alone is an empty value; a percent-encoded name matches too. */
    assert_true(url_read("%61&b=%31", &w, &err));
    assert_int_equal(w.f[0].count, 1);
    assert_string_equal(w.a, "");
    assert_string_equal(w.b, "1");
    assert_int_equal(w.f[2].count, 0);

    /* Too long for the buffer (3 bytes + NUL): flagged, not copied, still counted. */
    assert_true(url_read("c+d=abcd", &w, &err));
    assert_true(w.f[2].too_long);
    assert_int_equal(w.f[2].len, 0);
    assert_int_equal(w.f[2].count, 1);
    assert_string_equal(w.c, "");
    assert_true(url_read("c+d=abc", &w, &err));
    assert_false(w.f[2].too_long);
    assert_string_equal(w.c, "abc");

    /* Empty bodies and bodies of empty pairs hold nothing. */
    assert_true(url_read("", &w, &err));
    assert_true(url_read("&&&", &w, &err));
    assert_int_equal(w.f[0].count + w.f[1].count + w.f[2].count, 0);

    static const struct {
        const char *body;
        size_t offset;
    } bad[] = {
        {"a=%", 2},     {"a=%4", 2},   {"a=%g1", 2},      {"x=1&a=b c", 7},
        {"=1", 0},      {"a=1&=2", 4}, {"%zz=1", 0},      {"a=\x7f", 2},
        {"a=1\r\n", 3}, {"x=%e9%", 5}, {"a=\xc3\xa9", 2}, {"b=1&x=%%", 6},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err = (struct gw_form_error){0, NULL};
        if (url_read(bad[i].body, &w, &err))
            fail_msg("\"%s\" accepted", bad[i].body);
        assert_non_null(err.what);
        if (err.offset != bad[i].offset)
            fail_msg("\"%s\": offset %zu, want %zu", bad[i].body, err.offset, bad[i].offset);
    }
}

static void test_urlencoded_bounds(void **state)
{
    (void)state;
    struct want3 w;
    want3_init(&w);
    struct gw_form_error err;
    /* Names: 256 encoded bytes at most. */
    char name[GW_FORM_NAME_MAX + 4];
    memset(name, 'n', GW_FORM_NAME_MAX);
    strcpy(name + GW_FORM_NAME_MAX, "=1");
    assert_true(url_read(name, &w, &err));
    memset(name, 'n', GW_FORM_NAME_MAX + 1);
    strcpy(name + GW_FORM_NAME_MAX + 1, "=1");
    assert_false(url_read(name, &w, &err));

    /* Fields: 1024 at most. */
    size_t cap = (GW_FORM_FIELDS_MAX + 1) * 4 + 1;
    char *many = malloc(cap);
    assert_non_null(many);
    many[0] = '\0';
    for (size_t i = 0; i < GW_FORM_FIELDS_MAX; i++)
        strcat(many, i ? "&x=1" : "x=1");
    assert_true(url_read(many, &w, &err));
    strcat(many, "&a=1");
    assert_false(url_read(many, &w, &err));
    free(many);
}

#define MP_OK                                                                                      \
    "preamble\r\n"                                                                                 \
    "--XyZ\r\n"                                                                                    \
    "Content-Disposition: form-data; name=\"a\"\r\n"                                               \
    "\r\n"                                                                                         \
    "one\r\ntwo\r\n"                                                                               \
    "--XyZ\r\n"                                                                                    \
    "content-type: text/plain\r\n"                                                                 \
    "CONTENT-DISPOSITION: Form-Data ; filename=\"caf\xc3\xa9.txt\"; name=b\r\n"                    \
    "\r\n"                                                                                         \
    "x --XyZ y\r\n"                                                                                \
    "--XyZ\r\n"                                                                                    \
    "Content-Disposition: form-data; name=\"c d\"\r\n"                                             \
    "\r\n"                                                                                         \
    "\r\n"                                                                                         \
    "--XyZ\r\n"                                                                                    \
    "Content-Disposition: form-data; name=\"a\"\r\n"                                               \
    "\r\n"                                                                                         \
    "again\r\n"                                                                                    \
    "--XyZ--\r\n"                                                                                  \
    "epilogue"

static void test_multipart(void **state)
{
    (void)state;
    struct want3 w;
    want3_init(&w);
    struct gw_form_error err = {0, NULL};
    assert_true(mp_read(MP_OK, sizeof MP_OK - 1, "XyZ", &w, &err));
    assert_int_equal(w.f[0].count, 2);
    assert_string_equal(w.a, "one\r\ntwo"); /* raw: the CRLF inside is content */
    assert_int_equal(w.f[0].len, 8);
    assert_int_equal(w.f[1].count, 1);
    assert_string_equal(w.b, "x --XyZ y"); /* a boundary not after CRLF is content */
    assert_int_equal(w.f[2].count, 1);
    assert_int_equal(w.f[2].len, 0);

    /* The first delimiter may open the body; no epilogue; a part of NUL bytes. */
    static const char nul_part[] = "--B\r\nContent-Disposition: form-data; name=a\r\n\r\n"
                                   "\0\0\x01\r\n--B--";
    assert_true(mp_read(nul_part, sizeof nul_part - 1, "B", &w, &err));
    assert_int_equal(w.f[0].len, 3);
    assert_memory_equal(w.a, "\0\0\x01", 4);

    /* An empty form. */
    assert_true(mp_read("--B--", 5, "B", &w, &err));
    assert_int_equal(w.f[0].count, 0);

    /* Too long for the buffer: flagged and counted. */
    static const char long_c[] = "--B\r\nContent-Disposition: form-data; name=\"c d\"\r\n\r\n"
                                 "abcd\r\n--B--";
    assert_true(mp_read(long_c, sizeof long_c - 1, "B", &w, &err));
    assert_true(w.f[2].too_long);
    assert_int_equal(w.f[2].count, 1);
    assert_string_equal(w.c, "");
}

#define CD "Content-Disposition: form-data; name=a\r\n"

static void test_multipart_malformed(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",                                                  /* nothing */
        "no boundary at all",                                /* no delimiter */
        "--B\r\n" CD "\r\nvalue",                            /* never closed */
        "--B\r\n" CD "\r\nvalue\r\n--B",                     /* delimiter without -- or CRLF */
        "--B\r\n" CD "\r\nvalue\r\n--B \r\n",                /* padding after the boundary */
        "--B\r\n" CD "\r\nvalue\r\n--Bx\r\n",                /* the boundary continues */
        "--B \r\n" CD "\r\nvalue\r\n--B--",                  /* padding after the first one */
        "--B\n" CD "\r\nvalue\r\n--B--",                     /* LF alone */
        "--B\r\n" CD "value\r\n--B--",                       /* no blank line after the headers */
        "--B\r\n\r\nvalue\r\n--B--",                         /* no headers */
        "--B\r\nContent-Type: text/plain\r\n\r\nv\r\n--B--", /* no Content-Disposition */
        "--B\r\n" CD CD "\r\nv\r\n--B--",                    /* two of them */
        "--B\r\nContent-Disposition: attachment; name=a\r\n\r\nv\r\n--B--",
        "--B\r\nContent-Disposition: form-data\r\n\r\nv\r\n--B--", /* no name */
        "--B\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nv\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nv\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\\\"b\"\r\n\r\nv\r\n--B--",
        "--B\r\nContent-Disposition: form-data; name=\"a\r\n\r\nv\r\n--B--",
        "--B\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nv\r\n--B--", /* folding */
        "--B\r\nContent-Disposition form-data; name=a\r\n\r\nv\r\n--B--",      /* no colon */
        "--B\r\n: form-data; name=a\r\n\r\nv\r\n--B--",                        /* no name */
        "--B\r\nX-Bad\x01: 1\r\n" CD "\r\nv\r\n--B--",                         /* control */
        "--B\r\n" CD "X: \x7f\r\n\r\nv\r\n--B--",                              /* DEL */
        "--B\r\nContent-Disposition: form-data; name=a b\r\n\r\nv\r\n--B--",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct want3 w;
        want3_init(&w);
        struct gw_form_error err = {0, NULL};
        if (mp_read(bad[i], strlen(bad[i]), "B", &w, &err))
            fail_msg("case %zu accepted: %s", i, bad[i]);
        assert_non_null(err.what);
        assert_true(err.offset <= strlen(bad[i]));
    }
    /* A boundary of no length or too long is refused before reading. */
    struct want3 w;
    want3_init(&w);
    struct gw_form_error err;
    assert_false(mp_read("--B--", 5, "", &w, &err));
    char long_b[GW_FORM_BOUNDARY_MAX + 2];
    memset(long_b, 'b', sizeof long_b - 1);
    long_b[sizeof long_b - 1] = '\0';
    assert_false(mp_read("--B--", 5, long_b, &w, &err));
}

static void test_multipart_bounds(void **state)
{
    (void)state;
    struct want3 w;
    want3_init(&w);
    struct gw_form_error err;
    /* A header line of 1024 bytes is read; 1025 is refused. */
    char line[GW_FORM_PART_LINE_MAX + 2];
    for (size_t extra = 0; extra <= 1; extra++) {
        size_t n = GW_FORM_PART_LINE_MAX + extra;
        memcpy(line, "X-Pad: ", 7);
        memset(line + 7, 'p', n - 7);
        line[n] = '\0';
        char body[GW_FORM_PART_LINE_MAX + 128];
        int len = snprintf(body, sizeof body, "--B\r\n%s\r\n" CD "\r\nv\r\n--B--", line);
        assert_true(len > 0 && (size_t)len < sizeof body);
        assert_int_equal(mp_read(body, (size_t)len, "B", &w, &err), extra == 0);
    }
    /* 16 header lines are read; 17 are refused. */
    for (size_t lines = 16; lines <= 17; lines++) {
        char body[1024] = "--B\r\n" CD;
        for (size_t i = 1; i < lines; i++)
            strcat(body, "X-N: 1\r\n");
        strcat(body, "\r\nv\r\n--B--");
        assert_int_equal(mp_read(body, strlen(body), "B", &w, &err), lines == 16);
    }
    /* 1024 parts are read; 1025 are refused. */
    static const char part[] = "--B\r\n" CD "\r\nv\r\n";
    char *body = malloc((GW_FORM_FIELDS_MAX + 1) * (sizeof part - 1) + 8);
    assert_non_null(body);
    for (size_t parts = GW_FORM_FIELDS_MAX; parts <= GW_FORM_FIELDS_MAX + 1; parts++) {
        size_t len = 0;
        for (size_t i = 0; i < parts; i++) {
            memcpy(body + len, part, sizeof part - 1);
            len += sizeof part - 1;
        }
        memcpy(body + len, "--B--", 5);
        len += 5;
        assert_int_equal(mp_read(body, len, "B", &w, &err), parts == GW_FORM_FIELDS_MAX);
        if (parts == GW_FORM_FIELDS_MAX)
            assert_int_equal(w.f[0].count, GW_FORM_FIELDS_MAX);
    }
    free(body);
}

/* Every prefix of a valid body is read without going past its end (ASan watches the heap
 * copies), and only the whole body — or a prefix that still holds the close delimiter — is
 * accepted. */
static void test_truncated_bodies(void **state)
{
    (void)state;
    size_t full = sizeof MP_OK - 1;
    size_t closed_at = strstr(MP_OK, "--XyZ--") - MP_OK + 7;
    for (size_t len = 0; len <= full; len++) {
        struct want3 w;
        want3_init(&w);
        struct gw_form_error err;
        bool ok = mp_read(MP_OK, len, "XyZ", &w, &err);
        if (ok != (len >= closed_at))
            fail_msg("prefix of %zu bytes: %s", len, ok ? "accepted" : "refused");
    }
    static const char url[] = "a=h%C3%A9llo+w&b=%41&c+d=x";
    for (size_t len = 0; len <= sizeof url - 1; len++) {
        struct want3 w;
        want3_init(&w);
        struct gw_form_error err;
        unsigned char *body = exact(url, len);
        bool ok = gw_form_urlencoded_read(body, len, w.f, 3, &err);
        free(body);
        /* Refused exactly when the cut falls inside a %XX. */
        bool inside = (len >= 3 && url[len - 1] == '%') || (len >= 2 && url[len - 2] == '%');
        if (ok == inside)
            fail_msg("urlencoded prefix of %zu bytes: %s", len, ok ? "accepted" : "refused");
    }
}

/* Random damage to valid bodies: whatever the result, nothing is read out of bounds and
 * every value reported fits where it was written. A poor man's fuzzer, always on. */
static void test_mutations(void **state)
{
    (void)state;
    uint32_t seed = 12345;
    size_t accepted = 0;
    for (int round = 0; round < 20000; round++) {
        bool multipart = round % 2 == 0;
        const char *src = multipart ? MP_OK : "x=1&a=h%C3%A9llo+w&&b=&c+d=xyz&b=2&z";
        size_t len = strlen(src);
        unsigned char *body = exact(src, len);
        int edits = 1 + round % 4;
        for (int e = 0; e < edits; e++) {
            seed = seed * 1103515245u + 12345u;
            size_t at = (seed >> 8) % len;
            seed = seed * 1103515245u + 12345u;
            static const char interesting[] = "\r\n-%=&\"; :XyZ\0\xff";
            body[at] = (seed >> 16) % 3 == 0 ? (unsigned char)(seed >> 8)
                                             : (unsigned char)interesting[(seed >> 8) % 16];
        }
        struct want3 w;
        want3_init(&w);
        struct gw_form_error err;
        bool ok = multipart ? gw_form_multipart_read(body, len, "XyZ", 3, w.f, 3, &err)
                            : gw_form_urlencoded_read(body, len, w.f, 3, &err);
        free(body);
        for (size_t i = 0; i < 3; i++)
            assert_true(w.f[i].len < w.f[i].cap);
        if (!ok)
            assert_true(err.offset <= len);
        accepted += ok;
    }
    /* Both outcomes happen, so the mutations do reach the parsers' checks. */
    assert_true(accepted > 0 && accepted < 20000);
}

static void test_form_read_dispatch(void **state)
{
    (void)state;
    struct want3 w;
    want3_init(&w);
    struct gw_form_error err;
    struct gw_form_type t;
    assert_true(gw_form_content_type("multipart/form-data; boundary=XyZ", &t));
    assert_true(gw_form_read(&t, (const unsigned char *)MP_OK, sizeof MP_OK - 1, w.f, 3, &err));
    assert_string_equal(w.a, "one\r\ntwo");
    assert_true(gw_form_content_type("application/x-www-form-urlencoded", &t));
    assert_true(gw_form_read(&t, (const unsigned char *)"a=1", 3, w.f, 3, &err));
    assert_string_equal(w.a, "1");
    assert_false(gw_form_read(NULL, (const unsigned char *)"a=1", 3, w.f, 3, &err));
    assert_false(gw_form_urlencoded_read(NULL, 3, w.f, 3, &err));
    assert_false(gw_form_multipart_read(NULL, 3, "B", 1, w.f, 3, &err));
    /* No fields wanted: the body is still validated. */
    assert_true(gw_form_urlencoded_read((const unsigned char *)"a=1", 3, NULL, 0, &err));
    assert_false(gw_form_urlencoded_read((const unsigned char *)"a=%", 3, NULL, 0, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_type),     cmocka_unit_test(test_decode),
        cmocka_unit_test(test_urlencoded),       cmocka_unit_test(test_urlencoded_bounds),
        cmocka_unit_test(test_multipart),        cmocka_unit_test(test_multipart_malformed),
        cmocka_unit_test(test_multipart_bounds), cmocka_unit_test(test_truncated_bodies),
        cmocka_unit_test(test_mutations),        cmocka_unit_test(test_form_read_dispatch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
