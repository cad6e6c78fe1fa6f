/* integrations.h — the rows of `integrations` an adapter reads and writes for its own
 * account's credentials (Xero's refresh tokens): locked in the caller's transaction, read
 * with their sealed credentials, sealed anew, disconnected. Every function is scoped by the
 * context's company_id and never commits; sealing and opening are credentials.h's. */
#ifndef CTGW_INTEGRATIONS_H
#define CTGW_INTEGRATIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/core/jobs.h"

/* VARCHAR(255) in utf8mb4, with the NUL. */
#define GW_INTEGRATION_EXTERNAL_ID_SIZE (255 * 4 + 1)

/* One row as read. ciphertext is a malloc'd copy (NULL when the row has no credentials);
 * gw_integration_clear frees it. */
struct gw_integration {
    uint64_t id;
    char external_id[GW_INTEGRATION_EXTERNAL_ID_SIZE]; /* as stored: the AAD names it so */
    char status[16];                                   /* active, disabled, disconnected */
    char key_id[72];                                   /* "" when NULL */
    bool has_credentials; /* both a ciphertext and a key id are stored */
    unsigned char *ciphertext;
    size_t ciphertext_len;
};

/* Frees the ciphertext and zeroes the row. NULL is fine. */
void gw_integration_clear(struct gw_integration *row);

/* Locks every row of PROVIDER of the company, in id order, until the transaction ends, so
 * that two workers updating the rows one consent shares never deadlock. GW_CORE_DB_ERROR
 * when there are more than MAX. */
enum gw_core_rc gw_integrations_lock(struct gw_core_ctx *c, const char *provider, size_t max);

/* The company's row (PROVIDER, EXTERNAL_ID), locked until the transaction ends;
 * GW_CORE_NOT_FOUND when there is none. */
enum gw_core_rc gw_integration_find_locked(struct gw_core_ctx *c, const char *provider,
                                           const char *external_id, struct gw_integration *row);

/* The company's active rows of PROVIDER that hold credentials, but for row EXCEPT_ID, in id
 * order, into OUT (*N of them; the caller clears each). GW_CORE_DB_ERROR when there are more
 * than CAP. */
enum gw_core_rc gw_integrations_sealed(struct gw_core_ctx *c, const char *provider,
                                       uint64_t except_id, struct gw_integration *out, size_t cap,
                                       size_t *n);

/* Stores credentials sealed under KEY_ID in the company's row ID, and when (now). */
enum gw_core_rc gw_integration_store(struct gw_core_ctx *c, uint64_t id,
                                     const unsigned char *ciphertext, size_t len,
                                     const char *key_id);

/* Sets the status of the company's row ID (active, disabled or disconnected). */
enum gw_core_rc gw_integration_set_status(struct gw_core_ctx *c, uint64_t id, const char *status);

#endif
