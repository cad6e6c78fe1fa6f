/* crm.h — the core-table operations a CRM adapter (GoHighLevel) calls inside a worker's
 * transaction: contacts and their clients kept by the CRM's contact id with stale-update
 * protection, notes kept on a contact, the contact's open job, job links (which job a CRM
 * object such as an opportunity or an appointment became, and the CRM state last applied),
 * a job's due time, and the integration row an app install creates or re-activates. Every
 * function but gw_crm_integration_owner is scoped by the context's company_id; none commits. */
#ifndef CTGW_CRM_H
#define CTGW_CRM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/core/jobs.h"

/* The longest CRM id kept (contacts.ghl_contact_id, job_links.external_id). */
#define GW_CRM_ID_CHARS 64

/* A contact as the CRM sends it. Texts may be NULL; they are cut to their columns. */
struct gw_crm_contact {
    const char *crm_id; /* required: the CRM's contact id */
    const char *name;
    const char *email; /* kept only when it is a valid address no other contact has */
    const char *phone;
    const char *company_name; /* a client of this name is found or created and linked */
    int64_t updated_ms;       /* when the CRM last changed it (ms since the epoch); 0: unknown */
};

/* Creates or updates the contact with this CRM id (adopting a contact of the same e-mail
 * that has no CRM id yet). An update older than the stored copy (updated_ms below
 * ghl_updated_ms) changes nothing: *changed is false then. */
enum gw_core_rc gw_crm_contact_sync(struct gw_core_ctx *c, const struct gw_crm_contact *x,
                                    uint64_t *contact_id, bool *changed);

/* Marks the contact deleted (deleted_at), never removes it; an older delete than the stored
 * copy changes nothing. NOT_FOUND when no contact has this CRM id. */
enum gw_core_rc gw_crm_contact_delete(struct gw_core_ctx *c, const char *crm_id, int64_t updated_ms,
                                      bool *changed);

/* The contact with this CRM id and its client (0: none), created bare when unknown: an
 * opportunity or a note names its contact before the contact's own event may arrive. */
enum gw_core_rc gw_crm_contact_ref(struct gw_core_ctx *c, const char *crm_id, uint64_t *contact_id,
                                   uint64_t *client_id);

/* Keeps a note about the contact (source: the context's), for a contact with no open job. */
enum gw_core_rc gw_crm_contact_note(struct gw_core_ctx *c, uint64_t contact_id, const char *body,
                                    const char *external_id);

/* The contact's most recently created job that is not done or closed; NOT_FOUND when none. */
enum gw_core_rc gw_crm_open_job(struct gw_core_ctx *c, uint64_t contact_id, uint64_t *job_id);

/* A job link as read: state is a malloc'd JSON object text (or NULL), freed by
 * gw_job_link_clear. */
struct gw_job_link {
    uint64_t job_id;
    int64_t updated_ms;
    char *state;
};
void gw_job_link_clear(struct gw_job_link *l);

/* The link (KIND, EXTERNAL_ID), locked until the transaction ends; NOT_FOUND when none. */
enum gw_core_rc gw_job_link_find(struct gw_core_ctx *c, const char *kind, const char *external_id,
                                 struct gw_job_link *out);

/* Records that EXTERNAL_ID of KIND became JOB_ID, with its state (a JSON object text or
 * NULL). The unique key refuses a second link for one object (a DB error: the caller's
 * transaction is rolled back and retried, and then finds the first). */
enum gw_core_rc gw_job_link_add(struct gw_core_ctx *c, const char *kind, const char *external_id,
                                uint64_t job_id, const char *state_json, int64_t updated_ms);

/* Replaces the state (and updated_ms) of an existing link. */
enum gw_core_rc gw_job_link_update(struct gw_core_ctx *c, const char *kind, const char *external_id,
                                   const char *state_json, int64_t updated_ms);

/* Who holds the integration (PROVIDER, EXTERNAL_ID): its company, row id and status, the
 * row locked until the transaction ends; NOT_FOUND when nobody does. Not scoped by the
 * context's company (only its db is used): an app install asks exactly which company, if
 * any, already holds the account, so that it never moves one to another company. */
enum gw_core_rc gw_crm_integration_owner(struct gw_core_ctx *c, const char *provider,
                                         const char *external_id, uint64_t *company_id,
                                         uint64_t *id, char status[16]);

/* Creates the company's integration row (PROVIDER, EXTERNAL_ID), active, no credentials. */
enum gw_core_rc gw_crm_integration_create(struct gw_core_ctx *c, const char *provider,
                                          const char *external_id, uint64_t *id);

/* The settings JSON text of the company's row (PROVIDER, EXTERNAL_ID), malloc'd, or NULL
 * when the row has none; NOT_FOUND when there is no row. */
enum gw_core_rc gw_crm_integration_settings(struct gw_core_ctx *c, const char *provider,
                                            const char *external_id, char **settings);

#endif
