/* ghl.h — what the files of the GoHighLevel adapter share: reading HighLevel's times and
 * ids, the location an event is about, and each event family's apply. */
#ifndef CTGW_ADAPTERS_GHL_H
#define CTGW_ADAPTERS_GHL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "adapters/provider.h"

/* Kinds of job_links rows this adapter writes. */
#define GW_GHL_LINK_OPPORTUNITY "ghl_opportunity"
#define GW_GHL_LINK_APPOINTMENT "ghl_appointment"

/* Milliseconds since the epoch of an ISO-8601 time as HighLevel writes them
 * ("2026-01-01T00:00:01.000Z", "2026-03-02T09:00:00+05:30"); -1 when unreadable. */
int64_t gw_ghl_time_ms(const char *s);

/* The UTC time of MS as "YYYY-MM-DD HH:MM:SS". */
void gw_ghl_time_utc(int64_t ms, char out[20]);

/* A string field of 1..max_chars characters of valid UTF-8, or NULL. */
const char *gw_ghl_text(const cJSON *o, const char *key, size_t max_chars);

/* An id HighLevel gives (contact, opportunity, location...): 1..64 printable ASCII, or NULL. */
const char *gw_ghl_id(const cJSON *o, const char *key);

/* When the CRM changed what the event carries: dateUpdated, else the delivery's timestamp;
 * 0 when neither reads. */
int64_t gw_ghl_updated_ms(const cJSON *root, const cJSON *object);

/* The CanTicket user HighLevel's user ASSIGNED_TO maps to: the integration's settings
 * {"users": {"<ghl user id>": "<e-mail>"}}, or the value itself when it is an e-mail; 0 when
 * none (or on NOT_FOUND). A database error returns false with ctx->core.err set. */
bool gw_ghl_user_of(struct gw_apply *ctx, const char *location, const char *assigned_to,
                    uint64_t *user_id);

/* The location the stored event is about: the suffix of a bulk install's dedupe key
 * ("<webhookId>/<locationId>"), else the body's locationId; NULL when neither. */
const char *gw_ghl_location(const struct gw_apply *ctx, const cJSON *root);

enum gw_apply_rc gw_ghl_apply_contact(struct gw_apply *ctx, const cJSON *root, const char *type);
enum gw_apply_rc gw_ghl_apply_opportunity(struct gw_apply *ctx, const cJSON *root,
                                          const char *type);
enum gw_apply_rc gw_ghl_apply_note(struct gw_apply *ctx, const cJSON *root, const char *type);
enum gw_apply_rc gw_ghl_apply_task(struct gw_apply *ctx, const cJSON *root, const char *type);
enum gw_apply_rc gw_ghl_apply_appointment(struct gw_apply *ctx, const cJSON *root,
                                          const char *type);
enum gw_apply_rc gw_ghl_apply_install(struct gw_apply *ctx, const cJSON *root, const char *type);

/* Sets ctx->result to a JSON object text made from O (consumed; NULL leaves it unset). */
void gw_ghl_result(struct gw_apply *ctx, cJSON *o);

#endif
