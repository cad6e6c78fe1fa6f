/* retention.c — the purge serve runs on its own. */
#include "gateway/pipeline/retention.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#include "gateway/base/clock.h"
#include "gateway/base/log.h"
#include "gateway/db/db.h"
#include "gateway/db/purge.h"

#define FIRST_RUN_MAX_MS (5ull * 60 * 1000)

struct gw_retention_task {
    const struct gw_config *cfg;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    /* Set by gw_retention_stop (any thread), read by the task between statements and
     * while it waits: an atomic, under `lock` for the wait. */
    atomic_bool stop;
};

/* One purge on a connection of its own, unless another instance holds the purge lock. */
static void purge_once(struct gw_retention_task *t)
{
    struct gw_db *db = gw_db_open(&t->cfg->database);
    if (db == NULL) {
        gw_log_warn(NULL, "retention: cannot purge now: no connection to the database");
        return;
    }
    struct gw_db_rows *rows = gw_db_query(db, "SELECT GET_LOCK('ctgw_purge', 0)", NULL, 0, 1);
    bool mine = rows != NULL && gw_db_rows_int(rows, 0, 0, 0) == 1;
    gw_db_rows_free(rows);
    if (!mine) {
        if (rows == NULL)
            gw_log_warn(NULL, "retention: cannot purge now: %s", gw_db_error(db));
        gw_db_close(db);
        return;
    }
    struct gw_purge_stats st = {0};
    if (gw_purge_run(db, &t->cfg->retention, &t->stop, &st) != 0)
        gw_log_warn(NULL, "retention: purge stopped: %s", gw_db_error(db));
    gw_log_info(NULL, "retention: emptied %" PRIu64 " raw bod%s, deleted %" PRIu64 " audit row%s",
                st.bodies, st.bodies == 1 ? "y" : "ies", st.audit, st.audit == 1 ? "" : "s");
    gw_db_close(db); /* closing the session releases the lock */
}

static void *task_main(void *arg)
{
    struct gw_retention_task *t = arg;
    gw_db_thread_init();
    uint64_t wait_ms = t->cfg->retention.interval_ms < FIRST_RUN_MAX_MS
                           ? t->cfg->retention.interval_ms
                           : FIRST_RUN_MAX_MS;
    for (;;) {
        struct timespec until = gw_deadline_in_ms(wait_ms);
        pthread_mutex_lock(&t->lock);
        while (!atomic_load(&t->stop) && pthread_cond_timedwait(&t->wake, &t->lock, &until) == 0)
            ;
        pthread_mutex_unlock(&t->lock);
        if (atomic_load(&t->stop))
            break;
        purge_once(t);
        wait_ms = t->cfg->retention.interval_ms;
    }
    gw_db_thread_end();
    return NULL;
}

struct gw_retention_task *gw_retention_start(const struct gw_config *cfg)
{
    struct gw_retention_task *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->cfg = cfg;
    atomic_init(&t->stop, false);
    pthread_mutex_init(&t->lock, NULL);
    gw_cond_init_monotonic(&t->wake);
    if (pthread_create(&t->thread, NULL, task_main, t) != 0) {
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        free(t);
        return NULL;
    }
    return t;
}

void gw_retention_stop(struct gw_retention_task *t)
{
    if (t == NULL)
        return;
    pthread_mutex_lock(&t->lock);
    atomic_store(&t->stop, true);
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    free(t);
}
