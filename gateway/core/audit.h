/* audit.h — the audit_log rows the core writes for adapters: a person's command refused by
 * their role, recorded in the event's transaction so that it exists exactly when the answer
 * saying so was given. */
#ifndef CTGW_AUDIT_H
#define CTGW_AUDIT_H

#include <stdint.h>

#include "gateway/core/jobs.h"

struct gw_command_refusal {
    const char *kind;     /* audit_log.kind, e.g. "slack_command_refused" */
    const char *endpoint; /* the endpoint id the command came through */
    const char *reason;   /* "contractor may not create jobs", at most 254 characters */
    const char *actor;    /* the provider's id of who asked (Slack member id) */
    const char *command;  /* the verb asked for */
    const char *ref;      /* the job it named, or NULL */
    uint64_t user_id;     /* the CanTicket user who asked */
};

/* Appends the row, for the context's company, with detail {"command", "ref", "user_id"}. */
enum gw_core_rc gw_audit_command_refused(struct gw_core_ctx *c, const struct gw_command_refusal *r);

#endif
