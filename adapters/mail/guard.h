/* guard.h — the bytes GMime is given: the message within its limits, with the few repairs that
 * must come before any MIME parsing can work. */
#ifndef CTGW_MAIL_GUARD_H
#define CTGW_MAIL_GUARD_H

#include <stddef.h>

#include "adapters/mail/parse.h"
#include "adapters/mail/text.h"

/* Lines starting with "--" (possible MIME boundaries) and lines shaped like a header field
 * where a header block may stand, allowed in one message: past either, the rest is cut. GMime
 * builds an object for every part and header it reads (some hundreds of bytes each, measured), so a
 * message of millions of tiny parts or header lines would cost gigabytes; real mail stays far
 * below. */
#define GW_MAIL_GUARD_BOUNDARY_LINES_MIN 1000u /* or 50 per allowed part, if more */
#define GW_MAIL_GUARD_FIELD_LINES        50000u

/* A g_malloc'd copy of raw[0..len) prepared for GMime, its length in *out_len:
 *   - at most lim->max_message_bytes;
 *   - leading blank lines (some stores write them) dropped;
 *   - bare CR line ends (old Mac files) made LF when no LF appears in the first 64 KiB;
 *   - header fields past lim->max_header_bytes of the top-level header block dropped, whole;
 *   - cut at the line where either line budget above runs out.
 * Every cut is added to notes. NULL when memory runs out. lim has no zero fields. */
unsigned char *gw_mail_guard(const unsigned char *raw, size_t len, const struct gw_mail_limits *lim,
                             size_t *out_len, struct gw_mail_buf *notes);

#endif
