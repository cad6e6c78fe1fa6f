/* mail_ctx.h — what the mail operations (mail_*.c) check of a context before their first
 * statement, and how they read a refused foreign key. Private to gateway/core/. */
#ifndef CTGW_MAIL_CTX_H
#define CTGW_MAIL_CTX_H

#include <stdbool.h>
#include <string.h>

#include "gateway/core/jobs.h"

/* MySQL's ER_NO_REFERENCED_ROW_2: an insert named a parent that is not there. */
#define GW_MAIL_ER_NO_REFERENCED_ROW 1452

/* A connection and a company; a writer also the source "email", which every row it writes
 * carries (jobs.c checks the source set; mail writes only this one). */
static inline enum gw_core_rc gw_mail_ctx_check(struct gw_core_ctx *c, bool writes)
{
    if (c == NULL)
        return GW_CORE_INVALID;
    c->err[0] = '\0';
    if (c->db == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "no database connection in the context");
    if (c->company_id == 0)
        return gw_core_fail(c, GW_CORE_INVALID, "no company in the context");
    if (writes && (c->source == NULL || strcmp(c->source, "email") != 0))
        return gw_core_fail(c, GW_CORE_INVALID, "mail operations write with source email");
    return GW_CORE_OK;
}

#endif
