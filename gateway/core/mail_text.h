/* mail_text.h — turning what a message says about itself (a file name, a content type, a
 * subject, a Message-ID) into values the core tables can hold and people can be shown. Pure
 * functions over bytes that may be anything: none fails on hostile input, each writes a
 * bounded, valid result or says it has none. */
#ifndef CTGW_MAIL_TEXT_H
#define CTGW_MAIL_TEXT_H

#include <stddef.h>

#define GW_MAIL_FILENAME_MAX      255 /* bytes: attachments.filename, and every file system */
#define GW_MAIL_FILENAME_SIZE     (GW_MAIL_FILENAME_MAX + 1)
#define GW_MAIL_CONTENT_TYPE_SIZE 256 /* attachments.content_type is VARCHAR(255) */
#define GW_MAIL_TITLE_CHARS       300 /* jobs.title */
#define GW_MAIL_TITLE_SIZE        (GW_MAIL_TITLE_CHARS * 4 + 1)
#define GW_MAIL_MESSAGE_ID_MAX    255 /* job_comments.email_message_id, brackets included */
#define GW_MAIL_MESSAGE_ID_SIZE   (GW_MAIL_MESSAGE_ID_MAX + 1)

/* A file name safe to store and to offer for download: only what follows the last '/' or
 * '\'; a byte that is not valid UTF-8 (utf8mb4), a control character (C0, DEL, C1) and any
 * of : * ? " < > | become '_'; direction overrides and zero-width characters (which can
 * disguise "gpj.exe" as "exe.jpg") are dropped; leading and trailing dots and spaces go;
 * then at most 255 bytes, cut on a character boundary and keeping an extension of up to 32
 * bytes. NULL, empty or nothing left: "attachment". Returns OUT. */
char *gw_mail_filename_sanitise(const char *in, char out[GW_MAIL_FILENAME_SIZE]);

/* "type/subtype" in lower case from a Content-Type value (parameters and white space
 * dropped), each part 1..127 RFC 2045 token characters; anything else, NULL included,
 * becomes "application/octet-stream". Returns OUT. */
char *gw_mail_content_type_sanitise(const char *in, char out[GW_MAIL_CONTENT_TYPE_SIZE]);

/* One line of text for a name or a title: invalid UTF-8 becomes U+FFFD, control characters
 * (CR, LF and tab among them) and runs of white space one space, invisible direction and
 * zero-width characters are dropped, trimmed, cut at MAX_CHARS characters and at what
 * OUT_SIZE holds with its NUL. Returns the bytes written (0: nothing was left). */
size_t gw_mail_clean_line(const char *in, size_t max_chars, char *out, size_t out_size);

/* A job title from a decoded subject: gw_mail_clean_line to 300 characters; NULL or nothing
 * left: "(no subject)". Returns OUT. */
char *gw_mail_title(const char *subject, char out[GW_MAIL_TITLE_SIZE]);

/* A Message-ID as the core tables store it, "<left@right>": white space around and the
 * brackets are optional in IN; the inside must be visible ASCII characters without '<',
 * '>' or white space (an '@' is not required: some mailers leave it out), and the result
 * at most 255 bytes. 0, or -1 with OUT empty. */
int gw_mail_message_id_normalise(const char *in, char out[GW_MAIL_MESSAGE_ID_SIZE]);

/* The length of the longest prefix of the UTF-8 text S[0..LEN) of at most MAX bytes that
 * does not end inside a character: where to cut a text that must fit a column. */
size_t gw_mail_utf8_prefix(const char *s, size_t len, size_t max);

#endif
