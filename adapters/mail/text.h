/* text.h — the bounded UTF-8 buffer every stage of the mail parser writes into, and the
 * cleaning that makes untrusted text storable: well-formed UTF-8 that utf8mb4 accepts, no NUL,
 * no control characters but tab and newline, every line break a single "\n". */
#ifndef CTGW_MAIL_PARSER_TEXT_H
#define CTGW_MAIL_PARSER_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "gateway/base/text.h"

/* Grows up to max bytes (the NUL not counted). Once something does not fit, cut is set and
 * every later append is refused, so that a cut text never goes on with a later fragment. */
struct gw_mail_buf {
    char *p; /* NUL-terminated when not NULL */
    size_t len;
    size_t cap;
    size_t max;
    bool cut;
    bool failed; /* out of memory */
};

void gw_mail_buf_init(struct gw_mail_buf *b, size_t max);
void gw_mail_buf_free(struct gw_mail_buf *b);

/* Appends s[0..n), which must be valid UTF-8; when it does not fit whole, as many whole
 * characters as fit are kept, cut is set and false returned. */
bool gw_mail_buf_add(struct gw_mail_buf *b, const char *s, size_t n);
bool gw_mail_buf_adds(struct gw_mail_buf *b, const char *s);

/* Appends one code point; surrogates, values past U+10FFFF and U+0000 become U+FFFD. */
bool gw_mail_buf_add_cp(struct gw_mail_buf *b, uint32_t cp);

/* The text so far as a malloc'd string ("" when empty), leaving b empty; NULL when out of
 * memory (b is freed then too). */
char *gw_mail_buf_take(struct gw_mail_buf *b);

/* Whether s[0..n) is well-formed UTF-8 throughout; *multibyte (may be NULL) counts the
 * sequences longer than one byte. */
bool gw_mail_utf8_valid(const char *s, size_t n, size_t *multibyte);

enum gw_mail_clean_mode {
    GW_MAIL_CLEAN_TEXT, /* keeps "\n" and tab; CRLF and lone CR become "\n" */
    GW_MAIL_CLEAN_LINE, /* one line: every run of white space is one space, trimmed */
};

/* Appends s[0..n) cleaned: ill-formed sequences become U+FFFD; NUL, the other C0 and C1
 * controls, DEL and byte-order marks are dropped. False when something was cut. */
bool gw_mail_clean(struct gw_mail_buf *b, const char *s, size_t n, enum gw_mail_clean_mode mode);

/* A malloc'd one-line clean copy of s (NULL is ""), at most max bytes, cut at a character
 * boundary; *was_cut (may be NULL) says whether it was. NULL only when out of memory. */
char *gw_mail_text_clean(const char *s, size_t max, bool *was_cut);

/* Appends "; " (unless b is empty) and the formatted note: the parser's list of what it cut. */
bool gw_mail_note(struct gw_mail_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The Windows-1252 character of byte c (the five bytes it leaves undefined map to the C1
 * control of the same value, which cleaning drops). */
uint32_t gw_mail_cp1252(unsigned char c);

#endif
