/* quote.h — the new text of a reply, apart from what it quotes. Mail clients mark the quoted
 * part in a few ways; the first one found ends the new text:
 *   - an attribution, "On <date>, <name> wrote:" on one line or two (and its common German,
 *     French, Spanish, Italian, Dutch, Portuguese, Nordic, Polish, Czech, Russian, Turkish,
 *     Greek, Chinese and Japanese forms), or any line ending in "wrote:" followed by quoted lines;
 *   - a run of '>' lines (two or more, or one with nothing after it), with the line ending in
 *     ':' just above it;
 *   - Outlook's "-----Original Message-----" (and its translations);
 *   - a "From: ..." header block (From followed by Sent/Date/To/Subject lines, in English,
 *     German, French, Spanish, Dutch, Italian, Portuguese, Nordic or Polish) that starts the
 *     text or follows a blank or separator line.
 * A reply written below the quote (nothing above it) is the unquoted text after it. */
#ifndef CTGW_MAIL_QUOTE_H
#define CTGW_MAIL_QUOTE_H

#include <stddef.h>

/* The new text of text[0..len) (clean UTF-8 with "\n" line breaks) as a malloc'd string,
 * trailing blank and separator lines removed; the whole text when nothing is quoted, "" when
 * everything is. NULL only when out of memory. */
char *gw_mail_quote_reply(const char *text, size_t len);

#endif
