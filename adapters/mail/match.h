/* match.h — which company an inbound message is for, and which of its jobs the message
 * answers, in the order of providers.md §4.5: In-Reply-To, then References right to left,
 * against the Message-IDs stored on comments and our own HMAC thread ids; a reply+ address
 * among the recipients; the subject tag [CT-000123] only from a participant of that job. */
#ifndef CTGW_MAIL_MATCH_H
#define CTGW_MAIL_MATCH_H

#include <stddef.h>
#include <stdint.h>

#include "adapters/mail/parse.h"
#include "gateway/core/mail.h"

/* What the matching reads of one message. */
struct gw_mail_inbound {
    const struct gw_mail *m;
    const char *recipient;             /* the envelope recipient, clean; NULL: none given */
    const struct gw_mail_threading *t; /* NULL: no `mail:` section, so no thread ids */
};

/* The most recipient addresses routing looks up (To and Cc may hold 100 each). */
#define GW_MAIL_ROUTE_CANDIDATES 50

/* The company of IN: the envelope recipient when the relay named one, otherwise the To and
 * then the Cc addresses, each through gw_mail_route (exact address, then "*@domain"); when
 * none routes, the one company whose MAC a reply+ recipient, In-Reply-To or a Reference
 * carries (gw_mail_route_thread). GW_CORE_OK with *COMPANY_ID; GW_CORE_NOT_FOUND with the
 * reason in WHY (the first recipient's, or "no recipient"); GW_CORE_DB_ERROR. */
enum gw_core_rc gw_mail_company_find(struct gw_db *db, const struct gw_mail_inbound *in,
                                     uint64_t *company_id, char *why, size_t why_len);

struct gw_mail_match {
    struct gw_mail_job job;
    /* How: "in-reply-to", "references", "reply-address", "subject-tag", "delivery-status". */
    const char *by;
};

/* The job of C's company that IN answers: a delivery report's job by the Message-ID it
 * quotes, then the order above. GW_CORE_OK with OUT filled; GW_CORE_NOT_FOUND when none;
 * GW_CORE_DB_ERROR. A thread id whose MAC does not verify for this company, or a subject tag
 * from a sender who is no participant of the job, matches nothing. */
enum gw_core_rc gw_mail_job_match(struct gw_core_ctx *c, const struct gw_mail_inbound *in,
                                  struct gw_mail_match *out);

/* The ref of the first subject tag "[CT-000123]" (CT in any case, six digits or more) of
 * SUBJECT, normalised into REF. False when there is none. */
bool gw_mail_subject_tag(const char *subject, char ref[32]);

#endif
