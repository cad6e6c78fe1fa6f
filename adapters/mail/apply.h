/* apply.h — the mail core: one inbound e-mail message, as the raw RFC 5322 bytes a relay
 * handed over, applied to the core tables. Every way mail comes in (provider email-mime,
 * `ctgw mail-pipe`, and the relays' adapters: SES, Mailgun, SendGrid, Postmark) stores the
 * message and, on a worker, calls gw_mail_apply from its apply hook.
 *
 * What it does, in one transaction (the worker's):
 *   parse (GMime, limits from mail:) → the company (the endpoint's, else the recipients',
 *   else a thread id's; none: IGNORED) → the same Message-ID applied before: nothing more
 *   → the sender's hourly count (over mail.max_per_sender_hour: IGNORED) → automated? (loop
 *   guard) → the job it answers (match.h) → a comment there (public from a contact or client,
 *   internal from staff, internal for automated mail) and a done or closed job reopened
 *   (not by automated mail); or else a new job (never for automated mail: IGNORED) →
 *   attachments (mail.max_attachment, mail.max_attachments_total) → an internal note of
 *   whatever a limit cut → the job's email_received event. */
#ifndef CTGW_MAIL_APPLY_H
#define CTGW_MAIL_APPLY_H

#include <stddef.h>

#include "adapters/provider.h"

/* One message as a relay delivered it. */
struct gw_mail_delivery {
    const unsigned char *raw; /* the message, exactly as received */
    size_t len;
    /* The envelope recipient (RCPT TO) of this copy when the relay names it; NULL or "":
     * the company is found from To and Cc instead. */
    const char *recipient;
};

/* Applies D inside the caller's open transaction, never committing. CTX: core.db,
 * core.company_id (0: found here, and set in CTX on success), core.source "email",
 * core.webhook_event_id (0: none), cfg (NULL: the defaults of mail:, no thread ids).
 * Returns GW_APPLY_DONE with ctx->result a JSON object ({"ref", "job_id", "comment_id",
 * "new_job", "reopened", "automated", "automated_reason", "duplicate", "by",
 * "attachments"}), GW_APPLY_IGNORED with the reason in ctx->error (no company for the
 * recipients, over the sender's hourly limit, automated mail that answers no job),
 * GW_APPLY_RETRY (the database failed: roll back) or GW_APPLY_FAILED (not a message at
 * all), with the reason in ctx->error. */
enum gw_apply_rc gw_mail_apply(struct gw_apply *ctx, const struct gw_mail_delivery *d);

#endif
