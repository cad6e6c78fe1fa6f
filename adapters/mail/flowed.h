/* flowed.h — text/plain; format=flowed (RFC 3676) read back into paragraphs: soft line breaks
 * (a line ending in a space) joined, space-stuffing removed, quote depth kept. */
#ifndef CTGW_MAIL_FLOWED_H
#define CTGW_MAIL_FLOWED_H

#include <stdbool.h>
#include <stddef.h>

#include "adapters/mail/text.h"

/* Appends the unflowed text of s[0..n) (valid UTF-8, "\n" or "\r\n" line breaks) to b; delsp
 * is the part's delsp=yes. False when b was cut or memory ran out. */
bool gw_mail_unflow(struct gw_mail_buf *b, const char *s, size_t n, bool delsp);

#endif
