/* html_text.h — the plain text of an HTML mail body: what a reader would see, as lines.
 * Scripts, styles, the head and comments are dropped, tags too; block elements become line
 * breaks, list items "- ", blockquotes "> " lines (so that quoted replies stay recognisable),
 * entities (named and numeric) are decoded, and links keep their target as "text (url)". */
#ifndef CTGW_MAIL_HTML_TEXT_H
#define CTGW_MAIL_HTML_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#include "adapters/mail/text.h"

/* Appends the text of html[0..n), which must be valid UTF-8, to b. Linear in n; stops when b
 * is full. The result is valid UTF-8 but may hold control characters a numeric entity named:
 * clean it (gw_mail_clean) before storing. False when b was cut or memory ran out. */
bool gw_mail_html_to_text(struct gw_mail_buf *b, const char *html, size_t n);

/* The charset an HTML document names in its first 4 KiB (<meta charset=...> or a
 * http-equiv Content-Type), for a part whose Content-Type declares none: copied to out
 * (at most outlen - 1 bytes of [A-Za-z0-9._:-]); false when there is none. */
bool gw_mail_html_charset(const unsigned char *html, size_t n, char *out, size_t outlen);

#endif
