/* charset.h — body text in whatever charset it declares (or none, or a wrong one) turned into
 * UTF-8. Never fails on the bytes: what no charset explains is read as Windows-1252. */
#ifndef CTGW_MAIL_CHARSET_H
#define CTGW_MAIL_CHARSET_H

#include <stdbool.h>
#include <stddef.h>

#include "adapters/mail/text.h"

/* How the bytes were read in the end. */
enum gw_mail_decoded {
    GW_MAIL_DECODED_DECLARED, /* the declared charset (UTF-8 when none was declared) */
    GW_MAIL_DECODED_UTF8,     /* declared otherwise, but the bytes were UTF-8 */
    GW_MAIL_DECODED_LOSSY,    /* the declared charset, a few bad bytes as U+FFFD */
    GW_MAIL_DECODED_CP1252,   /* neither fitted: Windows-1252 */
};

/* Appends in[0..n) as UTF-8 (well-formed, not yet cleaned of controls) to b. charset is the
 * declared label (NULL or "" when none); labels are read the way browsers read them (ISO-8859-1
 * and US-ASCII as Windows-1252, GB2312 as GB18030, Shift_JIS as Windows-31J, ...).
 * Order: bytes that are not valid in the declared charset but are valid UTF-8 are UTF-8;
 * a handful of bad bytes keep the declared charset with U+FFFD; otherwise Windows-1252.
 * Returns how they were read; b->failed is set when memory ran out. */
enum gw_mail_decoded gw_mail_charset_decode(struct gw_mail_buf *b, const char *charset,
                                            const unsigned char *in, size_t n);

#endif
