/* pipeline.c — starts and stops the three stages of the webhook pipeline (inbound, ingest,
 * workers) around one database pool, for the server. */
#include "gateway/pipeline/pipeline.h"

#include <stdlib.h>

#include "gateway/base/log.h"
#include "gateway/db/db_pool.h"
#include "gateway/pipeline/inbound.h"
#include "gateway/pipeline/ingest.h"
#include "gateway/pipeline/retention.h"
#include "gateway/pipeline/workers.h"

struct pipeline {
    struct gw_db_pool *pool;
    struct gw_ingest *ingest;
    struct gw_workers *workers;
    struct gw_hooks *hooks;
    struct gw_retention_task *retention;
};

static void pipeline_stop(void *state)
{
    struct pipeline *p = state;
    if (p == NULL)
        return;
    /* Workers first (they hand synchronous requests back), then the writers (they answer
     * whatever is still queued). */
    gw_retention_stop(p->retention);
    gw_workers_stop(p->workers);
    gw_ingest_stop(p->ingest);
    gw_hooks_destroy(p->hooks);
    gw_db_pool_destroy(p->pool);
    free(p);
}

static void *pipeline_start(const struct gw_config *cfg, struct event_base *base)
{
    struct pipeline *p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->pool = gw_db_pool_create(&cfg->database);
    p->ingest = p->pool ? gw_ingest_start(cfg, base, p->pool) : NULL;
    p->workers = p->ingest ? gw_workers_start(cfg, p->pool, p->ingest) : NULL;
    p->hooks = p->ingest ? gw_hooks_create(cfg, base, p->ingest) : NULL;
    p->retention = p->hooks ? gw_retention_start(cfg) : NULL;
    if (p->hooks == NULL || p->retention == NULL ||
        (p->workers == NULL && cfg->workers.threads > 0)) {
        gw_log_error(NULL, "cannot start the ingest writers and workers");
        pipeline_stop(p);
        return NULL;
    }
    return p;
}

static bool pipeline_route(void *state, struct gw_request *r)
{
    struct pipeline *p = state;
    return gw_hooks_route(p->hooks, r);
}

static int pipeline_admit(void *state, const struct gw_framing_head *h, struct gw_admission *a)
{
    struct pipeline *p = state;
    return gw_hooks_admit(p->hooks, h, a);
}

static void pipeline_stopping(void *state)
{
    struct pipeline *p = state;
    gw_hooks_stopping(p->hooks);
}

static unsigned pipeline_in_flight(void *state)
{
    struct pipeline *p = state;
    return gw_hooks_in_flight(p->hooks);
}

const struct gw_serve_app gw_pipeline_app = {
    .start = pipeline_start,
    .route = pipeline_route,
    .admit = pipeline_admit,
    .stopping = pipeline_stopping,
    .in_flight = pipeline_in_flight,
    .stop = pipeline_stop,
};
