/* form_data.h — the fields of a form post a mail relay sends (Mailgun, SendGrid Inbound
 * Parse), every one of them, with its bytes: multipart/form-data (RFC 7578) read by GMime,
 * and application/x-www-form-urlencoded split here and decoded by verifiers/form.c. Bounded
 * (fields, name and file name lengths, nesting) and made for hostile input; the relays'
 * verifiers read the signed fields on their own (verifiers/form.h). */
#ifndef CTGW_MAIL_FORM_DATA_H
#define CTGW_MAIL_FORM_DATA_H

#include <stdbool.h>
#include <stddef.h>

#define GW_FORM_DATA_FIELDS_MAX   512  /* fields (parts or pairs) in one body */
#define GW_FORM_DATA_NAME_MAX     256  /* bytes of a field name */
#define GW_FORM_DATA_FILENAME_MAX 1024 /* bytes of a file name */
#define GW_FORM_DATA_TYPE_MAX     255  /* bytes of a part's media type */
/* Lines starting "--" in a multipart body: every part at any depth starts with one, so this
 * bounds what GMime builds before a nested multipart (refused) is seen. */
#define GW_FORM_DATA_DASH_LINES_MAX 8192

/* One field. All strings are NUL-terminated and owned by the form. */
struct gw_form_data_field {
    char *name;
    char *filename;     /* the part's filename parameter (UTF-8), NULL for a plain field */
    char *content_type; /* "type/subtype" in lower case, NULL when the part named none */
    char *content_id;   /* the part's Content-ID without angle brackets, or NULL */
    unsigned char *data;
    size_t len; /* data[len] is a NUL byte not counted */
};

struct gw_form_data {
    struct gw_form_data_field *fields; /* in body order */
    size_t n;
};

/* Why a body could not be read. */
enum gw_form_data_rc {
    GW_FORM_DATA_OK = 0,
    GW_FORM_DATA_INVALID, /* not a form of that type, or over a bound: refused for good */
    GW_FORM_DATA_NOMEM,   /* out of memory: worth another try */
};

/* Reads BODY as CONTENT_TYPE (the request's Content-Type value, checked by
 * gw_form_content_type) says. Multipart: each part needs "Content-Disposition: form-data;
 * name=..." ; its content is decoded by its Content-Transfer-Encoding if it names one; a part
 * of type message/rfc822 is kept as the message GMime read; a nested multipart is refused.
 * Urlencoded: pairs as gw_form_urlencoded_read reads them. On success *OUT is the form
 * (gw_form_data_free it); otherwise *OUT is NULL and ERR holds one sentence. */
enum gw_form_data_rc gw_form_data_read(const char *content_type, const unsigned char *body,
                                       size_t len, struct gw_form_data **out, char *err,
                                       size_t errlen);

void gw_form_data_free(struct gw_form_data *form);

/* The first field called NAME (compared exactly), or NULL. */
const struct gw_form_data_field *gw_form_data_get(const struct gw_form_data *form,
                                                  const char *name);

/* How many fields are called NAME. */
size_t gw_form_data_count(const struct gw_form_data *form, const char *name);

/* The value of the field NAME when it is there exactly once and holds no NUL byte, else
 * NULL: for the short text fields (recipient, envelope, charsets). */
const char *gw_form_data_text(const struct gw_form_data *form, const char *name);

#endif
