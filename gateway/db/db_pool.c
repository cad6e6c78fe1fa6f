/* db_pool.c — a fixed set of database connections shared by threads. */
#include "gateway/db/db_pool.h"
#include "gateway/base/clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

struct gw_db_pool {
    pthread_mutex_t lock;
    pthread_cond_t freed;
    const struct gw_database_config *cfg;
    size_t size;
    struct gw_db **conns; /* NULL until first used */
    bool *busy;
};

struct gw_db_pool *gw_db_pool_create(const struct gw_database_config *cfg)
{
    struct gw_db_pool *pool = calloc(1, sizeof(*pool));
    if (pool == NULL)
        return NULL;
    pool->cfg = cfg;
    pool->size = cfg->pool ? cfg->pool : 1;
    pool->conns = calloc(pool->size, sizeof(*pool->conns));
    pool->busy = calloc(pool->size, sizeof(*pool->busy));
    if (pool->conns == NULL || pool->busy == NULL) {
        free(pool->conns);
        free(pool->busy);
        free(pool);
        return NULL;
    }
    pthread_mutex_init(&pool->lock, NULL);
    /* CLOCK_MONOTONIC so a wall-clock jump cannot stretch or cut a wait. */
    gw_cond_init_monotonic(&pool->freed);
    return pool;
}

void gw_db_pool_destroy(struct gw_db_pool *pool)
{
    if (pool == NULL)
        return;
    for (size_t i = 0; i < pool->size; i++)
        gw_db_close(pool->conns[i]);
    free(pool->conns);
    free(pool->busy);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->freed);
    free(pool);
}

struct gw_db *gw_db_pool_acquire(struct gw_db_pool *pool, uint64_t timeout_ms)
{
    struct timespec deadline = gw_deadline_in_ms(timeout_ms);
    pthread_mutex_lock(&pool->lock);
    for (;;) {
        for (size_t i = 0; i < pool->size; i++) {
            if (pool->busy[i])
                continue;
            pool->busy[i] = true;
            if (pool->conns[i] == NULL) {
                /* Connect outside the lock: it can take up to connect_timeout. */
                pthread_mutex_unlock(&pool->lock);
                struct gw_db *db = gw_db_open(pool->cfg);
                pthread_mutex_lock(&pool->lock);
                if (db == NULL) {
                    pool->busy[i] = false;
                    pthread_mutex_unlock(&pool->lock);
                    return NULL;
                }
                pool->conns[i] = db;
            }
            struct gw_db *db = pool->conns[i];
            pthread_mutex_unlock(&pool->lock);
            return db;
        }
        if (pthread_cond_timedwait(&pool->freed, &pool->lock, &deadline) == ETIMEDOUT) {
            pthread_mutex_unlock(&pool->lock);
            return NULL;
        }
    }
}

void gw_db_pool_release(struct gw_db_pool *pool, struct gw_db *db)
{
    if (db == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    for (size_t i = 0; i < pool->size; i++) {
        if (pool->conns[i] == db) {
            pool->busy[i] = false;
            break;
        }
    }
    pthread_cond_signal(&pool->freed);
    pthread_mutex_unlock(&pool->lock);
}
