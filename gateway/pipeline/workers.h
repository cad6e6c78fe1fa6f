/* workers.h — the worker pool: threads that claim stored events (SELECT … FOR UPDATE SKIP
 * LOCKED, with a lease), apply each through its provider's adapter in one transaction that
 * also marks it done, and retry failures with exponential backoff and jitter until they are
 * dead. Several ctgw processes on one database share the work. */
#ifndef CTGW_WORKERS_H
#define CTGW_WORKERS_H

#include "config/config.h"
#include "gateway/db/db_pool.h"
#include "gateway/pipeline/ingest.h"

struct gw_workers;

/* Starts cfg->workers.threads threads (none when 0: this instance only ingests), hooked to
 * the ingest writers so a commit wakes them and synchronous events reach them first. */
struct gw_workers *gw_workers_start(const struct gw_config *cfg, struct gw_db_pool *pool,
                                    struct gw_ingest *ingest);
/* Lets each thread finish the event in hand, then joins them. Accepts NULL. */
void gw_workers_stop(struct gw_workers *w);

/* The delay before retry number `attempt` (1 = first retry): base * 2^(attempt-1), capped
 * at max, with jitter drawn from [delay/2, delay]. `random01` is in [0, 1). */
uint64_t gw_backoff_ms(uint64_t base_ms, uint64_t max_ms, unsigned attempt, double random01);

#endif
