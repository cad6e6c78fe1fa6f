/* audit.c — audit_log rows written on the caller's transaction, scoped to its company. */
#include "gateway/core/audit.h"

enum gw_core_rc gw_audit_command_refused(struct gw_core_ctx *c, const struct gw_command_refusal *r)
{
    if (c == NULL || c->db == NULL || c->company_id == 0 || r == NULL || r->kind == NULL ||
        r->endpoint == NULL || r->reason == NULL || r->actor == NULL || r->command == NULL)
        return GW_CORE_INVALID;
    c->err[0] = '\0';
    struct gw_db_value p[] = {GW_DB_INT(c->company_id),
                              GW_DB_TEXT(r->kind),
                              GW_DB_TEXT(r->endpoint),
                              GW_DB_TEXT(r->reason),
                              GW_DB_TEXT(r->actor),
                              GW_DB_TEXT(r->command),
                              r->ref ? GW_DB_TEXT(r->ref) : GW_DB_NULL,
                              GW_DB_INT(r->user_id)};
    if (gw_db_exec(c->db,
                   "INSERT INTO audit_log (company_id, kind, endpoint, reason, actor, detail) "
                   "VALUES (?, ?, ?, ?, ?, JSON_OBJECT('command', ?, 'ref', ?, 'user_id', ?))",
                   p, sizeof(p) / sizeof(p[0])) < 0)
        return gw_core_db_fail(c, "writing the audit log");
    return GW_CORE_OK;
}
