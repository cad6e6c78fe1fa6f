/* compose.h — a relay's parsed fields (headers, addresses, text and HTML bodies, files) made
 * back into one raw RFC 5322 message by GMime 3, so that the mail core (apply.h), which reads
 * raw messages only, threads, guards, stores attachments and routes relayed mail the same
 * way as mail from an MTA. Relays that post the fields rather than the message use it:
 * Postmark (Headers[]), Mailgun (message-headers), SendGrid Inbound Parse (headers).
 *
 * The input is hostile: a header name or value can never start a header of its own (CR, LF
 * and NUL never reach the output inside a field), a header block must be header fields and
 * nothing else, and every count and size is bounded by the limits of parse.h. */
#ifndef CTGW_MAIL_COMPOSE_H
#define CTGW_MAIL_COMPOSE_H

#include <stddef.h>

#include "adapters/mail/parse.h"

/* One file of the message: an attachment, or an inline image when content_id is set. */
struct gw_mail_compose_file {
    const char *name;         /* the file name; NULL or "": none */
    const char *content_type; /* "type/subtype"; NULL or unreadable: application/octet-stream */
    const char *content_id;   /* with or without <>; NULL or "": an attachment, not inline */
    const unsigned char *data;
    size_t len;
};

/* What a relay parsed out of one message. Strings are NUL-terminated UTF-8 (8-bit header
 * text that is not UTF-8 is read later as Windows-1252, like any mail); bodies are bytes in
 * their charset. */
struct gw_mail_compose {
    /* The message's header fields as a raw block ("Name: value" lines, folded lines allowed,
     * CRLF or LF), or NULL. Fields of the original body (Content-*, MIME-Version) are left
     * out: the body is made anew. */
    const char *header_block;
    size_t header_block_len;
    /* The header fields as pairs name0, value0, name1, value1, ...: n_header_pairs pairs
     * (2 * n_header_pairs strings). Values may be folded; their line breaks become spaces.
     * Taken after header_block's fields. A NULL value is an empty one. */
    const char *const *header_pairs;
    size_t n_header_pairs;
    /* Used only where the fields above lack them; NULL or "": absent. from, to and cc are
     * address lists ("Jane <jane@example.com>, bob@example.com"), date any RFC 5322 date
     * (one GMime cannot read is left out). */
    const char *from, *to, *cc, *subject, *date;
    /* The bodies; NULL or len 0: none. A NULL charset is utf-8. Both: multipart/alternative. */
    const char *text;
    size_t text_len;
    const char *text_charset;
    const char *html;
    size_t html_len;
    const char *html_charset;
    const struct gw_mail_compose_file *files;
    size_t n_files;
    /* The bounds of what is composed (the parser's, taken from `mail:`); NULL: the defaults
     * of parse.h. max_message_bytes bounds the input, all of it counted; max_parts the
     * bodies and files; max_header_bytes the header fields. */
    const struct gw_mail_limits *limits;
};

/* The most header pairs taken, whatever the byte limits say: GMime builds an object each. */
#define GW_MAIL_COMPOSE_HEADERS_MAX 2000u
/* The longest header field name taken (RFC 5322 lines are at most 998 bytes). */
#define GW_MAIL_COMPOSE_NAME_MAX 200u

/* Whether NAME can be a header field name in gw_mail_compose's header_pairs: 1 to
 * GW_MAIL_COMPOSE_NAME_MAX printable ASCII bytes, no space or ':' ("X: y" as a name would
 * smuggle a value). A relay drops a pair whose name is not one before composing, since
 * gw_mail_compose refuses the whole message for it. */
bool gw_mail_compose_field_name_ok(const char *name);

/* Composes IN. 0 and a malloc'd message (free it) in *RAW and its length in *LEN, or -1 with
 * *RAW NULL and the reason in ERR (when ERRLEN > 0): over a limit, a header name that is not
 * one, a header block that is not header fields, a charset that is not a charset name, or
 * out of memory ("out of memory", exactly: a caller may retry that). May run on several
 * threads at once. */
int gw_mail_compose(const struct gw_mail_compose *in, unsigned char **raw, size_t *len, char *err,
                    size_t errlen);

#endif
