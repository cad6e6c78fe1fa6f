/* purge.h — retention: empties the raw bodies of settled inbox events and deletes old
 * audit_log rows, in small autocommitted batches that never hold locks for long. */
#ifndef CTGW_PURGE_H
#define CTGW_PURGE_H

#include <stdatomic.h>
#include <stdint.h>

#include "config/config.h"
#include "gateway/db/db.h"

struct gw_purge_stats {
    uint64_t bodies; /* webhook_events rows whose body was emptied */
    uint64_t audit;  /* audit_log rows deleted */
};

/* Runs one purge on DB (no transaction open: each statement commits on its own) as R says,
 * adding to *OUT. Stops early when STOP (may be NULL) turns true. 0, or -1 with the reason
 * in gw_db_error(db). */
int gw_purge_run(struct gw_db *db, const struct gw_retention_config *r, const atomic_bool *stop,
                 struct gw_purge_stats *out);

#endif
