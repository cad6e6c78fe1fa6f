/* db_pool.h — a fixed set of database connections shared by threads (readiness checks,
 * writers, workers). A connection is used by one thread between acquire and release. */
#ifndef CTGW_DB_POOL_H
#define CTGW_DB_POOL_H

#include <stdint.h>

#include "config/config.h"
#include "gateway/db/db.h"

struct gw_db_pool;

/* Creates `cfg->pool` connection slots; connections are made lazily on first use. */
struct gw_db_pool *gw_db_pool_create(const struct gw_database_config *cfg);
/* Closes every connection; all must have been released. Accepts NULL. */
void gw_db_pool_destroy(struct gw_db_pool *pool);

/* Waits up to timeout_ms for a free connection; NULL on timeout. The connection may be
 * disconnected: every gw_db_* call reconnects first when it is. */
struct gw_db *gw_db_pool_acquire(struct gw_db_pool *pool, uint64_t timeout_ms);
void gw_db_pool_release(struct gw_db_pool *pool, struct gw_db *db);

#endif
