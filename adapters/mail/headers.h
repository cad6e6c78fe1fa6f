/* headers.h — the header fields of a parsed message that a ticket needs, bounded and clean. */
#ifndef CTGW_MAIL_HEADERS_H
#define CTGW_MAIL_HEADERS_H

#include <stdbool.h>

#include <gmime/gmime.h>

#include "adapters/mail/parse.h"
#include "adapters/mail/text.h"

/* Fills the header fields of m (from, to, cc, subject, date, ids, automation markers) from msg,
 * adding what was cut to notes. False when memory ran out. */
bool gw_mail_read_headers(struct gw_mail *m, GMimeMessage *msg, GMimeParserOptions *opts,
                          struct gw_mail_buf *notes);

/* A message id (with or without <>, white space around) as a malloc'd clean string without
 * <>; "" when absent, blank, or longer than GW_MAIL_ID_MAX (*too_long set then). NULL only
 * when out of memory. */
char *gw_mail_clean_id(const char *id, bool *too_long);

#endif
