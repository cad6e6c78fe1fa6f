/* loop_guard.h — whether a message was sent by a machine rather than a person (RFC 3834
 * Auto-Submitted, Precedence, the vendors' X-Auto* markers, mailing lists, bounces, our own
 * loop marker), so that it never opens a job and the core application never answers it.
 * Pure: reads only the parsed message. */
#ifndef CTGW_MAIL_LOOP_GUARD_H
#define CTGW_MAIL_LOOP_GUARD_H

#include "adapters/mail/parse.h"

/* The reason M is automated, or NULL when a person sent it. A static string of a-z and '-',
 * the first that applies in this order: "own-loop" (X-CanTicket-Loop is LOOP_MARKER; NULL or
 * "": we have none), "delivery-status" (a DSN), "null-return-path" (Return-Path: <>),
 * "mailer-daemon" (From mailer-daemon@ or postmaster@), "auto-submitted" (any value but
 * "no"), "precedence" (bulk, junk or list), "x-autoreply" and "x-autorespond" (any value
 * but "no"), "x-auto-response-suppress" (All, OOF or AutoReply among its values), "list-id".
 * List-Unsubscribe alone is not enough: newsletters people answer carry it too. */
const char *gw_mail_automated(const struct gw_mail *m, const char *loop_marker);

#endif
