/* workers.c — claims stored events with leases and applies them exactly once. */
#include "gateway/pipeline/workers.h"
#include "gateway/base/clock.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "adapters/provider.h"
#include "gateway/base/log.h"
#include "gateway/base/metrics.h"

#define CLAIM_BATCH     16
#define LEASE_S         60
#define POLL_MS         500
#define STATUS_EVERY_S  5
#define ACQUIRE_WAIT_MS 5000

struct urgent {
    struct gw_pending *p;
    struct urgent *next;
};

struct worker {
    struct gw_workers *pool;
    pthread_t thread;
    unsigned index;
    char owner[96];
    char last_claim_error[160];
    time_t last_claim_log;
};

struct gw_workers {
    const struct gw_config *cfg;
    struct gw_db_pool *db;
    struct gw_ingest *ingest;
    struct worker *threads;
    size_t n;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stopping;
    unsigned wakeups; /* commits since the workers last looked */
    struct urgent *urgent_head, *urgent_tail;
};

uint64_t gw_backoff_ms(uint64_t base_ms, uint64_t max_ms, unsigned attempt, double random01)
{
    uint64_t delay = base_ms ? base_ms : 1;
    for (unsigned i = 1; i < attempt && delay < max_ms; i++)
        delay = delay > UINT64_MAX / 2 ? UINT64_MAX : delay * 2;
    if (delay > max_ms)
        delay = max_ms;
    /* Equal jitter: half fixed, half random, so retries of many events spread out but
     * never come back sooner than half the intended delay. */
    uint64_t half = delay / 2;
    return half + (uint64_t)((double)(delay - half) * random01);
}

static double random01(void)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
        r = (uint32_t)rand();
    return (double)r / 4294967296.0;
}

/* ------------------------------------------------------------------ claiming */

/* True when the stored event's provider fetches before applying (its events go alone). */
static bool fetches(const char *provider)
{
    const struct gw_provider *p = provider != NULL ? gw_provider_find(provider) : NULL;
    return p != NULL && p->fetch != NULL;
}

/* Claims up to max events: their ids, and whether each one's provider fetches first. */
static size_t claim_batch(struct worker *w, struct gw_db *db, uint64_t *ids, bool *fetch,
                          size_t max)
{
    size_t n = 0;
    if (gw_db_begin(db) != 0)
        return 0;
    struct gw_db_value lim[] = {GW_DB_INT(max)};
    struct gw_db_rows *rows = gw_db_query(db,
                                          "SELECT id, provider FROM webhook_events FORCE INDEX "
                                          "(ix_webhook_events_claim) WHERE status = 'pending' "
                                          "AND next_attempt_at <= NOW(3) ORDER BY next_attempt_at "
                                          "LIMIT ? FOR UPDATE SKIP LOCKED",
                                          lim, 1, max);
    if (rows == NULL)
        goto fail;
    for (size_t i = 0; i < gw_db_rows_count(rows) && n < max; i++) {
        fetch[n] = fetches(gw_db_rows_text(rows, i, 1, NULL));
        ids[n++] = (uint64_t)gw_db_rows_int(rows, i, 0, 0);
    }
    gw_db_rows_free(rows);
    if (n < max) {
        /* Leases that ran out: a ctgw died mid-work, or a worker hung past its lease. */
        struct gw_db_value lim2[] = {GW_DB_INT(max - n)};
        rows = gw_db_query(db,
                           "SELECT id, provider FROM webhook_events FORCE INDEX "
                           "(ix_webhook_events_claim) WHERE status = 'processing' AND "
                           "next_attempt_at < NOW(3) AND lease_expires_at < NOW(3) LIMIT ? "
                           "FOR UPDATE SKIP LOCKED",
                           lim2, 1, max - n);
        if (rows == NULL)
            goto fail;
        for (size_t i = 0; i < gw_db_rows_count(rows) && n < max; i++) {
            fetch[n] = fetches(gw_db_rows_text(rows, i, 1, NULL));
            ids[n++] = (uint64_t)gw_db_rows_int(rows, i, 0, 0);
        }
        gw_db_rows_free(rows);
    }
    if (n > 0) {
        /* One statement for the whole claim; its text depends only on n (<= CLAIM_BATCH). */
        char sql[512];
        int len = snprintf(
            sql, sizeof(sql),
            "UPDATE webhook_events SET status = 'processing', lease_owner = ?, "
            "lease_expires_at = NOW(3) + INTERVAL ? SECOND, next_attempt_at = lease_expires_at, "
            "attempts = attempts + "
            "1 WHERE id IN (");
        for (size_t i = 0; i < n && len > 0 && (size_t)len < sizeof(sql); i++)
            len += snprintf(sql + len, sizeof(sql) - (size_t)len, "%s?", i ? ", " : "");
        if (len <= 0 || (size_t)len + 2 > sizeof(sql))
            goto fail;
        sql[len] = ')';
        sql[len + 1] = '\0';
        struct gw_db_value p[2 + CLAIM_BATCH];
        p[0] = GW_DB_TEXT(w->owner);
        p[1] = GW_DB_INT(LEASE_S);
        for (size_t i = 0; i < n; i++)
            p[2 + i] = GW_DB_INT(ids[i]);
        if (gw_db_exec(db, sql, p, 2 + n) < 0)
            goto fail;
    }
    if (gw_db_commit(db) != 0)
        goto fail;
    return n;
fail:
    /* The same failure every poll (database down, schema not migrated) is said once a
     * minute, not twice a second per worker. */
    if (strcmp(w->last_claim_error, gw_db_error(db)) != 0 || time(NULL) - w->last_claim_log >= 60) {
        gw_log_warn(NULL, "worker %u: cannot claim events: %s", w->index, gw_db_error(db));
        snprintf(w->last_claim_error, sizeof(w->last_claim_error), "%s", gw_db_error(db));
        w->last_claim_log = time(NULL);
    }
    gw_db_rollback(db);
    return 0;
}

/* Claims one given event (a synchronous one this process just stored). */
static bool claim_one(struct worker *w, struct gw_db *db, uint64_t id)
{
    struct gw_db_value p[] = {GW_DB_TEXT(w->owner), GW_DB_INT(LEASE_S), GW_DB_INT(id)};
    return gw_db_exec(
               db,
               "UPDATE webhook_events SET status = 'processing', lease_owner = ?, "
               "lease_expires_at = NOW(3) + INTERVAL ? SECOND, next_attempt_at = lease_expires_at, "
               "attempts = attempts + 1 "
               "WHERE id = ? AND status = 'pending'",
               p, 3) == 1;
}

/* ------------------------------------------------------------------ applying */

struct applied {
    enum gw_apply_rc rc;
    char *result;
    char error[512];
};

static void settle_failure(struct worker *w, struct gw_db *db, uint64_t id, unsigned attempts,
                           enum gw_apply_rc rc, const char *error, uint64_t defer_ms)
{
    const struct gw_config *cfg = w->pool->cfg;
    bool deferred = rc == GW_APPLY_DEFER;
    bool dead = rc == GW_APPLY_RETRY && attempts >= cfg->workers.max_attempts;
    const char *status = rc == GW_APPLY_FAILED ? "failed" : dead ? "dead" : "pending";
    uint64_t delay_ms = deferred ? defer_ms
                        : rc == GW_APPLY_RETRY && !dead
                            ? gw_backoff_ms(cfg->workers.backoff_base_ms,
                                            cfg->workers.backoff_max_ms, attempts, random01())
                            : 0;
    /* A deferral (a rate limit) is not an attempt: the claim's count is given back. */
    struct gw_db_value p[] = {GW_DB_TEXT(status),
                              GW_DB_INT(delay_ms * 1000),
                              GW_DB_INT(deferred ? 1 : 0),
                              GW_DB_TEXT(error),
                              GW_DB_INT(id),
                              GW_DB_TEXT(w->owner)};
    if (gw_db_exec(db,
                   "UPDATE webhook_events SET status = ?, next_attempt_at = NOW(3) + INTERVAL ? "
                   "MICROSECOND, attempts = IF(attempts > 0, attempts - ?, 0), "
                   "last_error = LEFT(?, 1000), lease_owner = NULL, "
                   "lease_expires_at = NULL, processed_at = IF(status = 'pending', NULL, NOW(3)) "
                   "WHERE id = ? AND lease_owner = ?",
                   p, 6) < 0) {
        /* The lease runs out and the event is claimed again: nothing is lost. */
        gw_log_warn(NULL, "worker %u: cannot record the failure of event %llu: %s", w->index,
                    (unsigned long long)id, gw_db_error(db));
        return;
    }
    if (deferred) {
        gw_metrics_count_deferred();
        gw_log_info(NULL, "event %llu deferred %llu ms: %s", (unsigned long long)id,
                    (unsigned long long)delay_ms, error);
        return;
    }
    gw_metrics_count_attempt(1);
    if (dead) {
        gw_metrics_count_dead();
        gw_log_error(NULL, "event %llu is dead after %u attempts: %s", (unsigned long long)id,
                     attempts, error);
    } else if (rc == GW_APPLY_FAILED) {
        gw_log_error(NULL, "event %llu failed: %s", (unsigned long long)id, error);
    } else {
        gw_log_warn(NULL, "event %llu attempt %u failed, retry in %llu ms: %s",
                    (unsigned long long)id, attempts, (unsigned long long)delay_ms, error);
    }
}

/* Applies one claimed event in one transaction with marking it settled. `waiter` is the
 * synchronous request waiting for the result, or NULL. */
static void apply_event(struct worker *w, struct gw_db *db, uint64_t id, struct gw_pending *waiter,
                        const char *fetched, struct applied *out)
{
    memset(out, 0, sizeof(*out));
    out->rc = GW_APPLY_RETRY;
    struct gw_db_value pid[] = {GW_DB_INT(id)};
    struct gw_db_rows *row = NULL;
    unsigned attempts = 0;
    if (gw_db_begin(db) != 0)
        goto db_failed;
    /* The row lock, and the lease check under it, make the apply exactly-once even when a
     * lease expired and another worker claimed the event meanwhile. */
    row = gw_db_query(db,
                      "SELECT endpoint, provider, company_id, dedupe_key, body, attempts, status, "
                      "lease_owner, FLOOR(UNIX_TIMESTAMP(received_at)) FROM webhook_events "
                      "WHERE id = ? FOR UPDATE",
                      pid, 1, 1);
    if (row == NULL)
        goto db_failed;
    if (gw_db_rows_count(row) != 1 || strcmp(gw_db_rows_text(row, 0, 6, NULL), "processing") != 0 ||
        gw_db_rows_text(row, 0, 7, NULL) == NULL ||
        strcmp(gw_db_rows_text(row, 0, 7, NULL), w->owner) != 0) {
        gw_db_rollback(db);
        gw_db_rows_free(row);
        snprintf(out->error, sizeof(out->error), "lease lost");
        out->rc = GW_APPLY_IGNORED;
        return; /* someone else holds it now */
    }
    attempts = (unsigned)gw_db_rows_int(row, 0, 5, 1);
    const struct gw_endpoint_config *ep =
        gw_config_endpoint(w->pool->cfg, gw_db_rows_text(row, 0, 0, NULL));
    const struct gw_provider *prov = gw_provider_find(gw_db_rows_text(row, 0, 1, NULL));
    size_t body_len = 0;
    const char *body = gw_db_rows_text(row, 0, 4, &body_len);
    struct gw_apply ctx = {
        .core = {.db = db,
                 .company_id = (uint64_t)gw_db_rows_int(row, 0, 2, 0),
                 .source = prov && prov->source ? prov->source : "api",
                 .webhook_event_id = id},
        .endpoint = ep,
        .dedupe_key = gw_db_rows_text(row, 0, 3, NULL),
        .body = (const unsigned char *)(body ? body : ""),
        .body_len = body_len,
        .attempt = attempts,
        .received_at = gw_db_rows_int(row, 0, 8, 0),
        .fetched = fetched,
    };
    if (ep == NULL || prov == NULL || ep->provider != prov) {
        out->rc = GW_APPLY_FAILED;
        snprintf(out->error, sizeof(out->error), "endpoint '%s' is no longer configured for %s",
                 gw_db_rows_text(row, 0, 0, NULL), gw_db_rows_text(row, 0, 1, NULL));
    } else if (ctx.core.company_id == 0) {
        out->rc = GW_APPLY_IGNORED;
        snprintf(out->error, sizeof(out->error), "no company");
    } else if (prov->apply == NULL) {
        out->rc = GW_APPLY_IGNORED;
    } else {
        out->rc = prov->apply(&ctx);
        out->result = ctx.result;
        snprintf(out->error, sizeof(out->error), "%s", ctx.error[0] ? ctx.error : ctx.core.err);
    }
    if (out->rc == GW_APPLY_DONE || out->rc == GW_APPLY_IGNORED) {
        struct gw_db_value p[] = {GW_DB_TEXT(out->rc == GW_APPLY_DONE ? "done" : "ignored"),
                                  out->result ? GW_DB_TEXT(out->result) : GW_DB_NULL,
                                  out->error[0] ? GW_DB_TEXT(out->error) : GW_DB_NULL,
                                  GW_DB_INT(id)};
        if (gw_db_exec(db,
                       "UPDATE webhook_events SET status = ?, result = ?, last_error = LEFT(?, "
                       "1000), processed_at = NOW(3), lease_owner = NULL, lease_expires_at = NULL "
                       "WHERE id = ?",
                       p, 4) < 0 ||
            gw_db_commit(db) != 0)
            goto db_failed;
        gw_metrics_count_attempt(0);
        int expected = GW_ANSWER_WAITING;
        bool answered_here =
            waiter != NULL &&
            atomic_compare_exchange_strong(&waiter->answer_state, &expected, GW_ANSWER_WITH_RESULT);
        if (out->rc == GW_APPLY_DONE && !answered_here && prov != NULL && prov->deliver != NULL)
            prov->deliver(ep, ctx.body, ctx.body_len, out->result);
        gw_db_rows_free(row);
        return;
    }
    gw_db_rows_free(row);
    row = NULL;
    gw_db_rollback(db);
    settle_failure(w, db, id, attempts, out->rc, out->error, 0);
    return;
db_failed:
    snprintf(out->error, sizeof(out->error), "database: %s", gw_db_error(db));
    gw_db_rows_free(row);
    gw_db_rollback(db);
    free(out->result);
    out->result = NULL;
    out->rc = GW_APPLY_RETRY;
    if (attempts > 0)
        settle_failure(w, db, id, attempts, GW_APPLY_RETRY, out->error, 0);
    /* With attempts unknown the lease runs out and the event is claimed again. */
}

/* Appends `each` n times, separated by `sep`, then `suffix`; false if it does not fit. */
static bool placeholders(char *sql, size_t cap, size_t *len, size_t n, const char *each,
                         const char *sep, const char *suffix)
{
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(sql + *len, cap - *len, "%s%s", i ? sep : "", each);
        if (k < 0 || (size_t)k >= cap - *len)
            return false;
        *len += (size_t)k;
    }
    int k = snprintf(sql + *len, cap - *len, "%s", suffix);
    if (k < 0 || (size_t)k >= cap - *len)
        return false;
    *len += (size_t)k;
    return true;
}

/* Applies a batch of events in one transaction: one locking read of the rows, each event's
 * changes, one settling UPDATE and one COMMIT, instead of four statements and a commit
 * (an fsync) per event. The database's work per statement round trip, not per row, is
 * what bounds the workers.
 *
 * Without waiters the events are ones this worker claimed (status processing, its lease).
 * With waiters they are synchronous events just stored, still pending and deferred, and
 * waiters[i] is the request waiting for events ids[i]: the row lock and the pending status
 * make the apply exactly-once without a separate claim (and its commit).
 *
 * Any event that does not apply cleanly (a failure to retry or record, a lost lease, a
 * database error) abandons the whole batch: it is rolled back and the caller applies the
 * events one by one, so each failure is settled on its own and nothing of a failed event
 * is kept. True when the batch committed. */
static bool apply_batch(struct worker *w, struct gw_db *db, const uint64_t *ids, size_t n,
                        struct gw_pending *const *waiters)
{
    if (n == 0 || n > CLAIM_BATCH)
        return false;
    char sql[2048];
    /* FORCE INDEX here and in the claims: an inbox that grew fast since its statistics
     * were taken looks tiny to the optimizer, which may then scan it, and a locking scan
     * waits on every row other transactions hold (bench/slack saw one wait 15 s). */
    size_t len =
        (size_t)snprintf(sql, sizeof(sql), "%s",
                         "SELECT id, endpoint, provider, company_id, dedupe_key, body, "
                         "attempts, status, lease_owner, FLOOR(UNIX_TIMESTAMP(received_at)) "
                         "FROM webhook_events FORCE INDEX (PRIMARY) WHERE id IN (");
    if (!placeholders(sql, sizeof(sql), &len, n, "?", ", ", ") FOR UPDATE"))
        return false;
    struct gw_db_value p[7 * CLAIM_BATCH];
    for (size_t i = 0; i < n; i++)
        p[i] = GW_DB_INT(ids[i]);

    struct gw_apply ctx[CLAIM_BATCH];
    const struct gw_provider *prov[CLAIM_BATCH];
    enum gw_apply_rc rc[CLAIM_BATCH];
    size_t applied = 0;
    memset(ctx, 0, sizeof(ctx));
    struct gw_db_rows *rows = NULL;
    if (gw_db_begin(db) != 0)
        return false;
    rows = gw_db_query(db, sql, p, n, n);
    if (rows == NULL || gw_db_rows_count(rows) != n)
        goto abandon;
    for (size_t i = 0; i < n; i++, applied++) {
        size_t r = 0;
        while (r < n && (uint64_t)gw_db_rows_int(rows, r, 0, 0) != ids[i])
            r++;
        const char *status = r < n ? gw_db_rows_text(rows, r, 7, NULL) : NULL;
        const char *owner = r < n ? gw_db_rows_text(rows, r, 8, NULL) : NULL;
        bool ours = waiters != NULL ? status != NULL && strcmp(status, "pending") == 0
                                    : status != NULL && strcmp(status, "processing") == 0 &&
                                          owner != NULL && strcmp(owner, w->owner) == 0;
        if (!ours)
            goto abandon;
        const struct gw_endpoint_config *ep =
            gw_config_endpoint(w->pool->cfg, gw_db_rows_text(rows, r, 1, NULL));
        prov[i] = gw_provider_find(gw_db_rows_text(rows, r, 2, NULL));
        uint64_t company = (uint64_t)gw_db_rows_int(rows, r, 3, 0);
        size_t body_len = 0;
        const char *body = gw_db_rows_text(rows, r, 5, &body_len);
        ctx[i] = (struct gw_apply){
            .core = {.db = db,
                     .company_id = company,
                     .source = prov[i] && prov[i]->source ? prov[i]->source : "api",
                     .webhook_event_id = ids[i]},
            .endpoint = ep,
            .dedupe_key = gw_db_rows_text(rows, r, 4, NULL),
            .body = (const unsigned char *)(body ? body : ""),
            .body_len = body_len,
            .attempt = (unsigned)gw_db_rows_int(rows, r, 6, 1) + (waiters != NULL ? 1 : 0),
            .received_at = gw_db_rows_int(rows, r, 9, 0),
        };
        if (ep == NULL || prov[i] == NULL || ep->provider != prov[i] || prov[i]->fetch != NULL)
            goto abandon; /* a FAILED the one-by-one path words and records, or a fetch */
        if (company == 0 || prov[i]->apply == NULL) {
            rc[i] = GW_APPLY_IGNORED;
            snprintf(ctx[i].error, sizeof(ctx[i].error), "%s", company == 0 ? "no company" : "");
            continue;
        }
        rc[i] = prov[i]->apply(&ctx[i]);
        if (rc[i] != GW_APPLY_DONE && rc[i] != GW_APPLY_IGNORED) {
            applied++; /* its result, if any, is freed below */
            goto abandon;
        }
        if (ctx[i].error[0] == '\0' && ctx[i].core.err[0] != '\0') {
            size_t el = strnlen(ctx[i].core.err, sizeof(ctx[i].core.err) - 1);
            memcpy(ctx[i].error, ctx[i].core.err, el);
            ctx[i].error[el] = '\0';
        }
    }

    /* One UPDATE settles them all: each row's status, result and note by its id. */
    len = (size_t)snprintf(sql, sizeof(sql), "%s", "UPDATE webhook_events SET status = CASE id");
    size_t k = 0;
    bool ok =
        placeholders(sql, sizeof(sql), &len, n, " WHEN ? THEN ?", "", " END, result = CASE id");
    for (size_t i = 0; i < n; i++) {
        p[k++] = GW_DB_INT(ids[i]);
        p[k++] = GW_DB_TEXT(rc[i] == GW_APPLY_DONE ? "done" : "ignored");
    }
    ok = ok && placeholders(sql, sizeof(sql), &len, n, " WHEN ? THEN ?", "",
                            " END, last_error = CASE id");
    for (size_t i = 0; i < n; i++) {
        p[k++] = GW_DB_INT(ids[i]);
        p[k++] = ctx[i].result ? GW_DB_TEXT(ctx[i].result) : GW_DB_NULL;
    }
    ok = ok && placeholders(sql, sizeof(sql), &len, n, " WHEN ? THEN LEFT(?, 1000)", "",
                            waiters != NULL ? " END, attempts = attempts + 1, processed_at = "
                                              "NOW(3), lease_owner = NULL, lease_expires_at = "
                                              "NULL WHERE id IN ("
                                            : " END, processed_at = NOW(3), lease_owner = NULL, "
                                              "lease_expires_at = NULL WHERE id IN (");
    for (size_t i = 0; i < n; i++) {
        p[k++] = GW_DB_INT(ids[i]);
        p[k++] = ctx[i].error[0] ? GW_DB_TEXT(ctx[i].error) : GW_DB_NULL;
    }
    ok = ok && placeholders(sql, sizeof(sql), &len, n, "?", ", ", ")");
    for (size_t i = 0; i < n; i++)
        p[k++] = GW_DB_INT(ids[i]);
    if (!ok || gw_db_exec(db, sql, p, k) != (int64_t)n || gw_db_commit(db) != 0)
        goto abandon;
    for (size_t i = 0; i < n; i++) {
        gw_metrics_count_attempt(0);
        /* A waiting request answers with the result; one whose deadline has passed was
         * told "working on it", and the provider delivers the result its own way. */
        int expected = GW_ANSWER_WAITING;
        bool answered_here =
            waiters != NULL && atomic_compare_exchange_strong(&waiters[i]->answer_state, &expected,
                                                              GW_ANSWER_WITH_RESULT);
        if (rc[i] == GW_APPLY_DONE && !answered_here && prov[i]->deliver != NULL)
            prov[i]->deliver(ctx[i].endpoint, ctx[i].body, ctx[i].body_len, ctx[i].result);
        if (waiters != NULL) {
            waiters[i]->outcome = GW_OUTCOME_APPLIED;
            waiters[i]->result = ctx[i].result;
            gw_ingest_complete(w->pool->ingest, waiters[i]);
        } else {
            free(ctx[i].result);
        }
    }
    gw_db_rows_free(rows); /* last: the contexts point into it */
    return true;
abandon:
    gw_db_rollback(db);
    gw_db_rows_free(rows);
    for (size_t i = 0; i < applied && i < n; i++)
        free(ctx[i].result);
    return false;
}

/* Applies one claimed event on its own. A provider with fetch() (`fetch`, as the claim read
 * it) gets its resource first, outside any transaction; the lease keeps other workers off
 * the event meanwhile. */
static void apply_claimed(struct worker *w, struct gw_db *db, uint64_t id, bool fetch)
{
    char *fetched = NULL;
    if (fetch) {
        struct gw_db_value p[] = {GW_DB_INT(id), GW_DB_TEXT(w->owner)};
        struct gw_db_rows *row =
            gw_db_query(db,
                        "SELECT endpoint, provider, company_id, body, attempts FROM webhook_events "
                        "WHERE id = ? AND status = 'processing' AND lease_owner = ?",
                        p, 2, 1);
        if (row == NULL)
            return; /* the database failed: the lease runs out and the event comes back */
        const struct gw_endpoint_config *ep =
            gw_db_rows_count(row) == 1
                ? gw_config_endpoint(w->pool->cfg, gw_db_rows_text(row, 0, 0, NULL))
                : NULL;
        const struct gw_provider *prov =
            ep != NULL ? gw_provider_find(gw_db_rows_text(row, 0, 1, NULL)) : NULL;
        uint64_t company = ep != NULL ? (uint64_t)gw_db_rows_int(row, 0, 2, 0) : 0;
        if (prov != NULL && prov == ep->provider && prov->fetch != NULL && company != 0) {
            size_t body_len = 0;
            const char *body = gw_db_rows_text(row, 0, 3, &body_len);
            struct gw_fetch f = {
                .db = db,
                .cfg = w->pool->cfg,
                .endpoint = ep,
                .company_id = company,
                .webhook_event_id = id,
                .body = (const unsigned char *)(body ? body : ""),
                .body_len = body_len,
                .attempt = (unsigned)gw_db_rows_int(row, 0, 4, 1),
            };
            enum gw_apply_rc rc = prov->fetch(&f);
            if (rc != GW_APPLY_DONE) {
                free(f.fetched);
                settle_failure(w, db, id, f.attempt, rc == GW_APPLY_IGNORED ? GW_APPLY_FAILED : rc,
                               f.error, f.defer_ms);
                gw_db_rows_free(row);
                return;
            }
            fetched = f.fetched;
        }
        gw_db_rows_free(row);
    }
    struct applied a;
    apply_event(w, db, id, NULL, fetched, &a);
    free(a.result);
    free(fetched);
}

static void refresh_status_counts(struct gw_db *db)
{
    static const char *const names[6] = {"pending", "processing", "done",
                                         "ignored", "failed",     "dead"};
    /* Only the statuses that are a backlog or need an operator: done and ignored grow with
     * history, and counting them every few seconds would scan the whole inbox. The claim
     * index (status, next_attempt_at) serves these. */
    struct gw_db_rows *rows = gw_db_query(db,
                                          "SELECT status, COUNT(*) FROM webhook_events WHERE "
                                          "status IN ('pending', 'processing', 'failed', 'dead') "
                                          "GROUP BY status",
                                          NULL, 0, 16);
    if (rows == NULL)
        return;
    int64_t counts[6] = {0, 0, -1, -1, 0, 0}; /* done, ignored: not counted */
    for (size_t r = 0; r < gw_db_rows_count(rows); r++)
        for (size_t i = 0; i < 6; i++)
            if (strcmp(gw_db_rows_text(rows, r, 0, NULL), names[i]) == 0)
                counts[i] = gw_db_rows_int(rows, r, 1, 0);
    gw_db_rows_free(rows);
    gw_metrics_set_events_by_status(counts);
}

/* ------------------------------------------------------------------ threads */

static void handle_urgent(struct worker *w, struct gw_db *db, struct gw_pending *p)
{
    uint64_t id = p->events[0].event_id;
    if (!claim_one(w, db, id)) {
        p->outcome = GW_OUTCOME_TIMEOUT; /* someone else has it; it will be applied */
        gw_ingest_complete(w->pool->ingest, p);
        return;
    }
    struct applied a;
    apply_event(w, db, id, p, NULL, &a);
    if (a.rc == GW_APPLY_DONE || a.rc == GW_APPLY_IGNORED) {
        p->outcome = GW_OUTCOME_APPLIED;
        p->result = a.result;
        a.result = NULL;
    } else if (a.rc == GW_APPLY_FAILED) {
        p->outcome = GW_OUTCOME_FAILED;
        snprintf(p->error, sizeof(p->error), "%.*s", (int)sizeof(p->error) - 1, a.error);
    } else {
        p->outcome = GW_OUTCOME_TIMEOUT;
    }
    free(a.result);
    gw_ingest_complete(w->pool->ingest, p);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct gw_workers *pool = w->pool;
    gw_db_thread_init();
    time_t last_status = 0;
    for (;;) {
        pthread_mutex_lock(&pool->lock);
        if (pool->stopping) {
            pthread_mutex_unlock(&pool->lock);
            break;
        }
        /* Every synchronous request queued, up to a batch: under load they are applied
         * together, in one transaction. */
        struct gw_pending *urgent[CLAIM_BATCH];
        size_t n_urgent = 0;
        while (pool->urgent_head != NULL && n_urgent < CLAIM_BATCH) {
            struct urgent *u = pool->urgent_head;
            pool->urgent_head = u->next;
            urgent[n_urgent++] = u->p;
            free(u);
        }
        if (pool->urgent_head == NULL)
            pool->urgent_tail = NULL;
        pool->wakeups = 0;
        pthread_mutex_unlock(&pool->lock);

        struct gw_db *db = gw_db_pool_acquire(pool->db, ACQUIRE_WAIT_MS);
        if (db == NULL) {
            for (size_t i = 0; i < n_urgent; i++) {
                urgent[i]->outcome = GW_OUTCOME_TIMEOUT;
                gw_ingest_complete(pool->ingest, urgent[i]);
            }
            continue;
        }
        size_t claimed = 0;
        if (n_urgent > 0) {
            uint64_t ids[CLAIM_BATCH];
            for (size_t i = 0; i < n_urgent; i++)
                ids[i] = urgent[i]->events[0].event_id;
            if (!apply_batch(w, db, ids, n_urgent, urgent))
                for (size_t i = 0; i < n_urgent; i++)
                    handle_urgent(w, db, urgent[i]);
            claimed = n_urgent;
        } else {
            uint64_t ids[CLAIM_BATCH], together[CLAIM_BATCH];
            bool fetch[CLAIM_BATCH];
            size_t n_together = 0;
            claimed = claim_batch(w, db, ids, fetch, CLAIM_BATCH);
            /* Events that fetch first go alone; the rest in one transaction. */
            for (size_t i = 0; i < claimed; i++) {
                if (fetch[i])
                    apply_claimed(w, db, ids[i], true);
                else
                    together[n_together++] = ids[i];
            }
            if (n_together > 0 && !apply_batch(w, db, together, n_together, NULL))
                for (size_t i = 0; i < n_together; i++)
                    apply_claimed(w, db, together[i], false);
            if (w->index == 0 && time(NULL) - last_status >= STATUS_EVERY_S) {
                refresh_status_counts(db);
                last_status = time(NULL);
            }
        }
        gw_db_pool_release(pool->db, db);
        if (claimed > 0)
            continue;

        /* Nothing to do: sleep until a commit or a synchronous event wakes us, or the poll
         * interval passes (retries come due, other processes store events). */
        struct timespec deadline = gw_deadline_in_ms(POLL_MS);
        pthread_mutex_lock(&pool->lock);
        while (!pool->stopping && pool->urgent_head == NULL && pool->wakeups == 0 &&
               pthread_cond_timedwait(&pool->wake, &pool->lock, &deadline) == 0)
            ;
        pthread_mutex_unlock(&pool->lock);
    }
    gw_db_thread_end();
    return NULL;
}

static void on_commit(void *ud)
{
    struct gw_workers *pool = ud;
    pthread_mutex_lock(&pool->lock);
    pool->wakeups++;
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
}

static void on_sync(void *ud, struct gw_pending *p)
{
    struct gw_workers *pool = ud;
    struct urgent *u = malloc(sizeof(*u));
    if (u == NULL) {
        p->outcome = GW_OUTCOME_TIMEOUT;
        gw_ingest_complete(pool->ingest, p);
        return;
    }
    u->p = p;
    u->next = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->urgent_tail)
        pool->urgent_tail->next = u;
    else
        pool->urgent_head = u;
    pool->urgent_tail = u;
    pthread_cond_signal(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
}

struct gw_workers *gw_workers_start(const struct gw_config *cfg, struct gw_db_pool *pool,
                                    struct gw_ingest *ingest)
{
    struct gw_workers *w = calloc(1, sizeof(*w));
    if (w == NULL)
        return NULL;
    w->cfg = cfg;
    w->db = pool;
    w->ingest = ingest;
    w->n = cfg->workers.threads;
    w->threads = calloc(w->n ? w->n : 1, sizeof(struct worker));
    if (w->threads == NULL) {
        free(w);
        return NULL;
    }
    pthread_mutex_init(&w->lock, NULL);
    gw_cond_init_monotonic(&w->wake);
    char host[64] = "host";
    gethostname(host, sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    uint32_t nonce = (uint32_t)(random01() * 4294967295.0);
    for (size_t i = 0; i < w->n; i++) {
        struct worker *t = &w->threads[i];
        t->pool = w;
        t->index = (unsigned)i;
        /* Unique per process start, so a restarted ctgw never mistakes an old lease for
         * its own. */
        snprintf(t->owner, sizeof(t->owner), "%.40s:%ld:%08x:%zu", host, (long)getpid(), nonce, i);
        if (pthread_create(&t->thread, NULL, worker_main, t) != 0) {
            w->n = i;
            gw_workers_stop(w);
            return NULL;
        }
    }
    if (w->n > 0) {
        gw_ingest_set_commit_hook(ingest, on_commit, w);
        gw_ingest_set_sync_handler(ingest, on_sync, w);
    }
    return w;
}

void gw_workers_stop(struct gw_workers *w)
{
    if (w == NULL)
        return;
    gw_ingest_set_commit_hook(w->ingest, NULL, NULL);
    gw_ingest_set_sync_handler(w->ingest, NULL, NULL);
    pthread_mutex_lock(&w->lock);
    w->stopping = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    for (size_t i = 0; i < w->n; i++)
        pthread_join(w->threads[i].thread, NULL);
    /* Synchronous events still queued are stored; they are applied by the next start. */
    while (w->urgent_head != NULL) {
        struct urgent *u = w->urgent_head;
        w->urgent_head = u->next;
        u->p->outcome = GW_OUTCOME_TIMEOUT;
        gw_ingest_complete(w->ingest, u->p);
        free(u);
    }
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w->threads);
    free(w);
}
