/* health.h — readiness: a thread that checks, off the event loop, that the database answers
 * and no migration is pending, and publishes the result for /readyz. */
#ifndef CTGW_HEALTH_H
#define CTGW_HEALTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct gw_health;

struct gw_health_state {
    bool ready;
    bool database_up;
    int pending_migrations; /* -1 when unknown */
    uint64_t checked_at_ms; /* CLOCK_REALTIME ms of the last finished check, 0 before any */
    char reason[160];       /* why not ready; empty when ready */
};

/* Starts the checker thread; it checks at once and then every interval_ms. */
struct gw_health *gw_health_start(const struct gw_database_config *db, uint64_t interval_ms);
/* Stops and joins the thread. Accepts NULL. */
void gw_health_stop(struct gw_health *h);
/* A copy of the latest result; never blocks on the database. */
void gw_health_get(struct gw_health *h, struct gw_health_state *out);

#endif
