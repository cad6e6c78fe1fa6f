/* invoices.h — the billing side of the core tables that accounting providers drive: clients
 * known by their accounting contact id, invoices, and a job's billing status. Like jobs.h,
 * every function is scoped by the context's company_id, runs on the caller's open
 * transaction and never commits. */
#ifndef CTGW_INVOICES_H
#define CTGW_INVOICES_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/core/jobs.h"

/* A client as the accounting system describes it. updated_ms: its last change there
 * (milliseconds since the epoch, UTC); 0 when unknown. */
struct gw_accounting_contact {
    const char *contact_id; /* required: Xero's ContactID */
    const char *name;       /* required; cut to the column's 200 characters */
    const char *email;      /* may be NULL */
    const char *phone;      /* may be NULL */
    bool archived;          /* the client is then soft-deleted (deleted_at) */
    int64_t updated_ms;
};

/* The client of this accounting contact, created with just its name when unknown (an
 * invoice names its contact before the contact's own event arrives). */
enum gw_core_rc gw_client_for_contact(struct gw_core_ctx *c, const char *contact_id,
                                      const char *name, uint64_t *client_id);

/* Creates or updates the client from the full contact. A contact not newer than what is
 * stored (updated_ms) changes nothing: *changed is false then. */
enum gw_core_rc gw_client_sync_contact(struct gw_core_ctx *c, const struct gw_accounting_contact *x,
                                       uint64_t *client_id, bool *changed);

/* The accounting system merged client `from` into client `to` (both of this company): the
 * jobs, invoices and contacts of `from` move to `to`, each moved job's history saying so
 * (job_events "client_merged"). Client users (users.client_id) are left where they are:
 * widening what a client login may see is a decision for a person, not a webhook;
 * *users_left says how many still point at `from`. */
enum gw_core_rc gw_client_merge(struct gw_core_ctx *c, uint64_t from, uint64_t to,
                                long long *users_left);

struct gw_invoice_in {
    const char *invoice_id;                       /* required: Xero's InvoiceID */
    const char *number, *reference;               /* cut to their columns (64, 255 characters) */
    const char *type;                             /* ACCREC, ACCPAY, ... (1..16 characters) */
    const char *status;                           /* DRAFT, AUTHORISED, PAID, ... */
    const char *currency;                         /* ISO 4217 or NULL */
    const char *total, *amount_due, *amount_paid; /* decimal text with up to 4 decimals, or NULL */
    const char *due_date;                         /* "YYYY-MM-DD" or NULL */
    uint64_t client_id;                           /* 0: none */
    int64_t updated_ms;
};

/* Creates or updates the invoice. An invoice not newer than what is stored changes
 * nothing (*changed false). *invoice_id is its row; *job_id the job it is linked to (0:
 * none), as stored before this call. */
enum gw_core_rc gw_invoice_sync(struct gw_core_ctx *c, const struct gw_invoice_in *in,
                                uint64_t *invoice_id, uint64_t *job_id, bool *changed);

/* Links the invoice to a job of this company and writes the job's history. */
enum gw_core_rc gw_invoice_link_job(struct gw_core_ctx *c, uint64_t invoice_id, uint64_t job_id,
                                    const char *invoice_label);

/* Sets a job's billing status (unbilled, invoiced, part_paid, paid, void); a change writes
 * job_events "billing_changed" naming the invoice. No change writes nothing. */
enum gw_core_rc gw_job_set_billing_status(struct gw_core_ctx *c, uint64_t job_id,
                                          const char *billing_status, const char *invoice_label);

#endif
