/* health.c — the readiness checker thread behind /readyz. */
#include "gateway/http/health.h"
#include "gateway/base/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/db/db.h"
#include "gateway/base/log.h"
#include "gateway/db/migrate.h"

struct gw_health {
    const struct gw_database_config *cfg;
    uint64_t interval_ms;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    struct gw_health_state state;
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void check_once(struct gw_health *h, struct gw_db *db, struct gw_health_state *st)
{
    memset(st, 0, sizeof(*st));
    st->pending_migrations = -1;
    if (gw_db_ping(db) != 0) {
        snprintf(st->reason, sizeof(st->reason), "database unreachable: %s", gw_db_error(db));
    } else {
        st->database_up = true;
        st->pending_migrations = gw_migrate_pending(db);
        if (st->pending_migrations < 0)
            snprintf(st->reason, sizeof(st->reason), "cannot read schema_migrations: %s",
                     gw_db_error(db));
        else if (st->pending_migrations > 0)
            snprintf(st->reason, sizeof(st->reason), "%d migration(s) pending; run ctgw migrate",
                     st->pending_migrations);
        else
            st->ready = true;
    }
    st->checked_at_ms = now_ms();
    (void)h;
}

static void *run(void *arg)
{
    struct gw_health *h = arg;
    gw_db_thread_init();
    struct gw_db *db = gw_db_open(h->cfg);
    int was_ready = -1; /* unknown: the first result is always logged */
    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        pthread_mutex_unlock(&h->lock);
        struct gw_health_state st;
        if (db == NULL) {
            memset(&st, 0, sizeof(st));
            snprintf(st.reason, sizeof(st.reason), "out of memory");
            db = gw_db_open(h->cfg);
        } else {
            check_once(h, db, &st);
        }
        /* Log transitions only, so a database outage is one line, not one per second. */
        if ((int)st.ready != was_ready) {
            if (st.ready)
                gw_log_info(NULL, "ready: database reachable and schema current");
            else
                gw_log_warn(NULL, "not ready: %s", st.reason);
            was_ready = (int)st.ready;
        }
        pthread_mutex_lock(&h->lock);
        h->state = st;
        if (h->stopping)
            break;
        struct timespec deadline = gw_deadline_in_ms(h->interval_ms);
        while (!h->stopping && pthread_cond_timedwait(&h->wake, &h->lock, &deadline) == 0)
            ;
    }
    pthread_mutex_unlock(&h->lock);
    gw_db_close(db);
    gw_db_thread_end();
    return NULL;
}

struct gw_health *gw_health_start(const struct gw_database_config *db, uint64_t interval_ms)
{
    struct gw_health *h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    h->cfg = db;
    h->interval_ms = interval_ms ? interval_ms : 1000;
    h->state.pending_migrations = -1;
    snprintf(h->state.reason, sizeof(h->state.reason), "not checked yet");
    pthread_mutex_init(&h->lock, NULL);
    gw_cond_init_monotonic(&h->wake);
    if (pthread_create(&h->thread, NULL, run, h) != 0) {
        pthread_mutex_destroy(&h->lock);
        pthread_cond_destroy(&h->wake);
        free(h);
        return NULL;
    }
    return h;
}

void gw_health_stop(struct gw_health *h)
{
    if (h == NULL)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = true;
    pthread_cond_broadcast(&h->wake);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->wake);
    free(h);
}

void gw_health_get(struct gw_health *h, struct gw_health_state *out)
{
    pthread_mutex_lock(&h->lock);
    *out = h->state;
    pthread_mutex_unlock(&h->lock);
}
