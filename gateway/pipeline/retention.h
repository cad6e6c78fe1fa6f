/* retention.h — serve's retention task: `ctgw purge` once every retention.interval, on a
 * thread and a connection of its own, by one instance at a time. */
#ifndef CTGW_RETENTION_H
#define CTGW_RETENTION_H

#include "config/config.h"

struct gw_retention_task;

/* Starts the task: its first purge within min(interval, 5 minutes), then every interval.
 * NULL when the thread cannot start. */
struct gw_retention_task *gw_retention_start(const struct gw_config *cfg);
/* Stops it (a purge under way stops between two statements) and frees it. Accepts NULL. */
void gw_retention_stop(struct gw_retention_task *t);

#endif
