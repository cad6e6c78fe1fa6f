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
    /* Synchronous requests the writers handed over, linked by their `next`; a worker that
     * takes one holds it until it hands it back to the loop (ingest.h). */
    struct gw_pending *urgent_head, *urgent_tail;
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

/* How one event of an apply ended. */
struct applied {
    enum gw_apply_rc rc;
    char *result;
    char error[512];
};

/* Records a failed attempt: retry later with backoff, deferred, failed or dead. True when the
 * event ended there (failed or dead) and that was recorded. */
static bool settle_failure(struct worker *w, struct gw_db *db, uint64_t id, unsigned attempts,
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
        return false;
    }
    if (deferred) {
        gw_metrics_count_deferred();
        gw_log_info(NULL, "event %llu deferred %llu ms: %s", (unsigned long long)id,
                    (unsigned long long)delay_ms, error);
        return false;
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
    return dead || rc == GW_APPLY_FAILED;
}

/* The request waiting for an event takes this worker's answer only if the loop's deadline
 * has not answered it already: one compare-and-swap decides, and the loser touches nothing
 * of the other's. True when the worker won; it may then write the item's outcome. */
static bool won_answer(struct gw_pending *p)
{
    int expected = GW_ANSWER_WAITING;
    return atomic_compare_exchange_strong(&p->answer_state, &expected, GW_ANSWER_WITH_RESULT);
}

/* Hands a waiting request back to the loop with OUTCOME, unless the loop answered it. */
static void hand_back(struct gw_workers *pool, struct gw_pending *p, enum gw_outcome outcome,
                      const char *error)
{
    if (won_answer(p)) {
        p->outcome = outcome;
        if (error != NULL)
            snprintf(p->error, sizeof(p->error), "%.*s", (int)sizeof(p->error) - 1, error);
    }
    gw_ingest_complete(pool->ingest, p);
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

/* The events of one apply and who waits for them. */
struct apply_set {
    const uint64_t *ids;
    size_t n; /* 1..CLAIM_BATCH */
    /* Synchronous events just stored: pending, deferred, unclaimed; the row lock and the
     * pending status make the apply exactly-once without a claim (and its commit).
     * Otherwise the events were claimed by this worker (processing, its lease). */
    bool fresh;
    struct gw_pending *const *waiters; /* NULL, or waiters[i] waits for ids[i] */
    const char *fetched;               /* alone only: what the provider's fetch() got */
};

/* One claimed event alone settles its own failures; any other set gives up on one (see
 * apply_events). */
static bool set_alone(const struct apply_set *set)
{
    return set->n == 1 && !set->fresh;
}

/* The locked rows of a set, in the order of set->ids: the row index for each id. */
static struct gw_db_rows *lock_rows(struct gw_db *db, const struct apply_set *set,
                                    size_t row_of[CLAIM_BATCH])
{
    char sql[512];
    /* FORCE INDEX here and in the claims: an inbox that grew fast since its statistics
     * were taken looks tiny to the optimizer, which may then scan it, and a locking scan
     * waits on every row other transactions hold (bench/slack saw one wait 15 s). */
    size_t len =
        (size_t)snprintf(sql, sizeof(sql), "%s",
                         "SELECT id, endpoint, provider, company_id, dedupe_key, body, "
                         "attempts, status, lease_owner, FLOOR(UNIX_TIMESTAMP(received_at)), "
                         "headers FROM webhook_events FORCE INDEX (PRIMARY) WHERE id IN (");
    if (!placeholders(sql, sizeof(sql), &len, set->n, "?", ", ", ") FOR UPDATE"))
        return NULL;
    struct gw_db_value p[CLAIM_BATCH];
    for (size_t i = 0; i < set->n; i++)
        p[i] = GW_DB_INT(set->ids[i]);
    struct gw_db_rows *rows = gw_db_query(db, sql, p, set->n, set->n);
    if (rows == NULL)
        return NULL;
    size_t count = gw_db_rows_count(rows);
    for (size_t i = 0; i < set->n; i++) {
        row_of[i] = count;
        for (size_t r = 0; r < count; r++)
            if ((uint64_t)gw_db_rows_int(rows, r, 0, 0) == set->ids[i])
                row_of[i] = r;
    }
    return rows;
}

/* Whether locked row R is still this set's to apply: pending for a fresh set, claimed by
 * this worker otherwise. A lease that ran out may have been claimed by another worker. */
static bool row_is_ours(const struct worker *w, const struct apply_set *set,
                        struct gw_db_rows *rows, size_t r)
{
    if (r >= gw_db_rows_count(rows))
        return false;
    const char *status = gw_db_rows_text(rows, r, 7, NULL);
    const char *owner = gw_db_rows_text(rows, r, 8, NULL);
    if (set->fresh)
        return status != NULL && strcmp(status, "pending") == 0;
    return status != NULL && strcmp(status, "processing") == 0 && owner != NULL &&
           strcmp(owner, w->owner) == 0;
}

/* Prepares event I of the set (locked row R) for its provider's apply in CTX and PROV; TODO
 * says whether apply has anything to run (A says why not otherwise). Returns false when the
 * event cannot be applied here: its endpoint or provider is gone (A->error says so), or its
 * provider fetches first and it is not alone. */
static bool prepare_one(struct worker *w, struct gw_db *db, const struct apply_set *set, size_t i,
                        struct gw_db_rows *rows, size_t r, struct gw_apply *ctx,
                        const struct gw_provider **prov, struct applied *a, bool *todo)
{
    const struct gw_endpoint_config *ep =
        gw_config_endpoint(w->pool->cfg, gw_db_rows_text(rows, r, 1, NULL));
    *prov = gw_provider_find(gw_db_rows_text(rows, r, 2, NULL));
    *todo = false;
    uint64_t company = (uint64_t)gw_db_rows_int(rows, r, 3, 0);
    size_t body_len = 0;
    const char *body = gw_db_rows_text(rows, r, 5, &body_len);
    *ctx = (struct gw_apply){
        .core = {.db = db,
                 .company_id = company,
                 .source = *prov && (*prov)->source ? (*prov)->source : "api",
                 .webhook_event_id = set->ids[i]},
        .cfg = w->pool->cfg,
        .endpoint = ep,
        .headers = gw_db_rows_text(rows, r, 10, NULL),
        .dedupe_key = gw_db_rows_text(rows, r, 4, NULL),
        .body = (const unsigned char *)(body ? body : ""),
        .body_len = body_len,
        .attempt = (unsigned)gw_db_rows_int(rows, r, 6, 1) + (set->fresh ? 1 : 0),
        .received_at = gw_db_rows_int(rows, r, 9, 0),
        .fetched = set->fetched,
    };
    if (ep == NULL || *prov == NULL || ep->provider != *prov) {
        a->rc = GW_APPLY_FAILED;
        snprintf(a->error, sizeof(a->error), "endpoint '%s' is no longer configured for %s",
                 gw_db_rows_text(rows, r, 1, NULL), gw_db_rows_text(rows, r, 2, NULL));
        return false;
    }
    if ((*prov)->fetch != NULL && !set_alone(set))
        return false;
    bool own_routing = ((*prov)->flags & GW_PROVIDER_OWN_ROUTING) != 0;
    if ((company == 0 && !own_routing) || (*prov)->apply == NULL) {
        a->rc = GW_APPLY_IGNORED;
        snprintf(a->error, sizeof(a->error), "%s", company == 0 ? "no company" : "");
        return true;
    }
    *todo = true;
    return true;
}

static void took(struct applied *a, const struct gw_apply *ctx, enum gw_apply_rc rc)
{
    a->rc = rc;
    a->result = ctx->result;
    snprintf(a->error, sizeof(a->error), "%s", ctx->error[0] ? ctx->error : ctx->core.err);
}

/* Runs the prepared applies of a set: the events of a provider with apply_many together,
 * the others one by one, each in the set's order. */
static void run_applies(size_t n, struct gw_apply *ctx, const struct gw_provider *const *prov,
                        struct applied *a, const bool *todo)
{
    bool ran[CLAIM_BATCH] = {false};
    for (size_t i = 0; i < n; i++) {
        if (!todo[i] || ran[i])
            continue;
        struct gw_apply *group[CLAIM_BATCH];
        size_t at[CLAIM_BATCH], k = 0;
        for (size_t j = i; j < n && prov[i]->apply_many != NULL; j++)
            if (todo[j] && !ran[j] && prov[j] == prov[i]) {
                at[k] = j;
                group[k++] = &ctx[j];
            }
        if (k >= 2) {
            enum gw_apply_rc rc[CLAIM_BATCH];
            prov[i]->apply_many(group, k, rc);
            for (size_t g = 0; g < k; g++) {
                ran[at[g]] = true;
                took(&a[at[g]], &ctx[at[g]], rc[g]);
            }
            continue;
        }
        ran[i] = true;
        took(&a[i], &ctx[i], prov[i]->apply(&ctx[i]));
    }
}

/* One UPDATE settles every applied event of the set: each row's status, result and note by
 * its id. Returns the rows it changed, or -1. */
static int64_t settle_applied(struct gw_db *db, const struct apply_set *set,
                              const struct applied *a)
{
    char sql[2048];
    struct gw_db_value p[7 * CLAIM_BATCH];
    size_t len =
        (size_t)snprintf(sql, sizeof(sql), "%s", "UPDATE webhook_events SET status = CASE id");
    size_t k = 0, n = set->n;
    bool ok =
        placeholders(sql, sizeof(sql), &len, n, " WHEN ? THEN ?", "", " END, result = CASE id");
    for (size_t i = 0; i < n; i++) {
        p[k++] = GW_DB_INT(set->ids[i]);
        p[k++] = GW_DB_TEXT(a[i].rc == GW_APPLY_DONE ? "done" : "ignored");
    }
    ok = ok && placeholders(sql, sizeof(sql), &len, n, " WHEN ? THEN ?", "",
                            " END, last_error = CASE id");
    for (size_t i = 0; i < n; i++) {
        p[k++] = GW_DB_INT(set->ids[i]);
        p[k++] = a[i].result ? GW_DB_TEXT(a[i].result) : GW_DB_NULL;
    }
    ok = ok && placeholders(sql, sizeof(sql), &len, n, " WHEN ? THEN LEFT(?, 1000)", "",
                            set->fresh ? " END, attempts = attempts + 1, processed_at = "
                                         "NOW(3), lease_owner = NULL, lease_expires_at = "
                                         "NULL WHERE id IN ("
                                       : " END, processed_at = NOW(3), lease_owner = NULL, "
                                         "lease_expires_at = NULL WHERE id IN (");
    for (size_t i = 0; i < n; i++) {
        p[k++] = GW_DB_INT(set->ids[i]);
        p[k++] = a[i].error[0] ? GW_DB_TEXT(a[i].error) : GW_DB_NULL;
    }
    ok = ok && placeholders(sql, sizeof(sql), &len, n, "?", ", ", ")");
    for (size_t i = 0; i < n; i++)
        p[k++] = GW_DB_INT(set->ids[i]);
    return ok ? gw_db_exec(db, sql, p, k) : -1;
}

/* After the commit: each waiting request answers with its event's result unless its
 * deadline answered first, and the provider delivers the result its own way when no
 * request took it. Frees the results no request took, and hands every waiter back. */
static void after_commit(struct worker *w, const struct apply_set *set, const struct gw_apply *ctx,
                         const struct gw_provider *const *prov, struct applied *a)
{
    for (size_t i = 0; i < set->n; i++) {
        gw_metrics_count_attempt(0);
        struct gw_pending *waiter = set->waiters ? set->waiters[i] : NULL;
        bool answered_here = waiter != NULL && won_answer(waiter);
        if (a[i].rc == GW_APPLY_DONE && !answered_here && prov[i]->deliver != NULL)
            prov[i]->deliver(ctx[i].endpoint, ctx[i].body, ctx[i].body_len, GW_OUTCOME_APPLIED,
                             a[i].result);
        if (answered_here) {
            waiter->outcome = GW_OUTCOME_APPLIED;
            waiter->result = a[i].result;
            a[i].result = NULL;
        }
        if (waiter != NULL)
            gw_ingest_complete(w->pool->ingest, waiter);
        free(a[i].result);
        a[i].result = NULL;
    }
}

/* A set of one claimed event whose apply did not commit: the waiting request, if any, is
 * told FAILED for a permanent failure and TIMEOUT otherwise (it will be applied later). */
static void settled_alone(struct worker *w, const struct apply_set *set, const struct applied *a,
                          const struct gw_apply *ctx, bool ended)
{
    struct gw_pending *p = set->waiters != NULL ? set->waiters[0] : NULL;
    enum gw_outcome o = a->rc == GW_APPLY_FAILED ? GW_OUTCOME_FAILED : GW_OUTCOME_TIMEOUT;
    bool told = p != NULL && won_answer(p);
    if (told) {
        p->outcome = o;
        snprintf(p->error, sizeof(p->error), "%.*s", (int)sizeof(p->error) - 1, a->error);
    }
    /* Ended for good while no request waits: whoever was told "working on it" hears how. */
    const struct gw_provider *prov = ctx != NULL && ctx->endpoint ? ctx->endpoint->provider : NULL;
    if (!told && ended && prov != NULL && prov->deliver != NULL)
        prov->deliver(ctx->endpoint, ctx->body, ctx->body_len, GW_OUTCOME_FAILED, NULL);
    if (p != NULL)
        gw_ingest_complete(w->pool->ingest, p);
}

/* Applies a set of events in one transaction: one locking read of the rows, each event's
 * changes, one settling UPDATE and one COMMIT, instead of four statements and a commit
 * (an fsync) per event. The database's work per statement round trip, not per row, is
 * what bounds the workers.
 *
 * A set of one claimed event settles whatever happens to it: a failure is rolled back and
 * recorded (retry with backoff, failed, dead or deferred), a lost lease leaves it to its new
 * owner, and its waiting request is handed back. Any other set gives up as soon as one
 * event does not apply cleanly: it is rolled back, nothing of it is kept, its waiters are
 * still this worker's, and false tells the caller to apply the events one by one (claiming
 * fresh ones first), so that each failure is settled on its own. True when the set is
 * settled. */
static bool apply_events(struct worker *w, struct gw_db *db, const struct apply_set *set)
{
    bool alone = set_alone(set);
    struct gw_apply ctx[CLAIM_BATCH];
    const struct gw_provider *prov[CLAIM_BATCH];
    struct applied a[CLAIM_BATCH];
    size_t row_of[CLAIM_BATCH], prepared = 0;
    bool todo[CLAIM_BATCH] = {false};
    unsigned attempts = 0;
    struct gw_db_rows *rows = NULL;
    if (set->n == 0 || set->n > CLAIM_BATCH)
        return false;
    memset(a, 0, sizeof(a[0]) * set->n);
    if (gw_db_begin(db) != 0 || (rows = lock_rows(db, set, row_of)) == NULL)
        goto db_failed;
    for (; prepared < set->n; prepared++) {
        size_t i = prepared, r = row_of[i];
        if (!row_is_ours(w, set, rows, r)) {
            a[i].rc = GW_APPLY_IGNORED; /* someone else holds it now */
            snprintf(a[i].error, sizeof(a[i].error), "lease lost");
            goto not_applied;
        }
        attempts = (unsigned)gw_db_rows_int(rows, r, 6, 1);
        if (!prepare_one(w, db, set, i, rows, r, &ctx[i], &prov[i], &a[i], &todo[i])) {
            prepared++;
            goto not_applied;
        }
    }
    run_applies(set->n, ctx, prov, a, todo);
    for (size_t i = 0; i < set->n; i++)
        if (a[i].rc != GW_APPLY_DONE && a[i].rc != GW_APPLY_IGNORED)
            goto not_applied;
    if (settle_applied(db, set, a) != (int64_t)set->n || gw_db_commit(db) != 0)
        goto db_failed;
    after_commit(w, set, ctx, prov, a);
    gw_db_rows_free(rows); /* last: the contexts point into it */
    return true;
not_applied:
    gw_db_rollback(db);
    for (size_t i = 0; i < set->n; i++) {
        free(a[i].result);
        a[i].result = NULL;
    }
    if (!alone) {
        gw_db_rows_free(rows);
        return false;
    }
    bool lease_lost = strcmp(a[0].error, "lease lost") == 0;
    bool ended =
        !lease_lost && settle_failure(w, db, set->ids[0], attempts, a[0].rc, a[0].error, 0);
    settled_alone(w, set, &a[0], lease_lost ? NULL : &ctx[0], ended);
    gw_db_rows_free(rows); /* last: the context points into it */
    return true;
db_failed:
    snprintf(a[0].error, sizeof(a[0].error), "database: %s", gw_db_error(db));
    gw_db_rollback(db);
    for (size_t i = 0; i < set->n; i++) {
        free(a[i].result);
        a[i].result = NULL;
    }
    if (!alone) {
        gw_db_rows_free(rows);
        return false;
    }
    a[0].rc = GW_APPLY_RETRY;
    /* With attempts unknown the lease runs out and the event is claimed again. */
    bool dead =
        attempts > 0 && settle_failure(w, db, set->ids[0], attempts, GW_APPLY_RETRY, a[0].error, 0);
    settled_alone(w, set, &a[0], prepared > 0 ? &ctx[0] : NULL, dead);
    gw_db_rows_free(rows); /* last: the context points into it */
    return true;
}

/* Applies one claimed event on its own. A provider with fetch() (`fetch`, as the claim read
 * it) gets its resource first, outside any transaction; the lease keeps other workers off
 * the event meanwhile. Returns false when fetch settled the event (it is not applied). */
static bool fetch_claimed(struct worker *w, struct gw_db *db, uint64_t id, char **fetched)
{
    struct gw_db_value p[] = {GW_DB_INT(id), GW_DB_TEXT(w->owner)};
    struct gw_db_rows *row =
        gw_db_query(db,
                    "SELECT endpoint, provider, company_id, body, attempts FROM webhook_events "
                    "WHERE id = ? AND status = 'processing' AND lease_owner = ?",
                    p, 2, 1);
    if (row == NULL)
        return false; /* the database failed: the lease runs out and the event comes back */
    const struct gw_endpoint_config *ep =
        gw_db_rows_count(row) == 1
            ? gw_config_endpoint(w->pool->cfg, gw_db_rows_text(row, 0, 0, NULL))
            : NULL;
    const struct gw_provider *prov =
        ep != NULL ? gw_provider_find(gw_db_rows_text(row, 0, 1, NULL)) : NULL;
    uint64_t company = ep != NULL ? (uint64_t)gw_db_rows_int(row, 0, 2, 0) : 0;
    bool go_on = true;
    /* An own-routing provider's event has no company until apply finds one (mail); its
     * fetch runs all the same (email-ses confirms an SNS subscription there). */
    bool routed = company != 0 || (prov != NULL && (prov->flags & GW_PROVIDER_OWN_ROUTING));
    if (prov != NULL && prov == ep->provider && prov->fetch != NULL && routed) {
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
        if (rc == GW_APPLY_DONE) {
            *fetched = f.fetched;
        } else {
            free(f.fetched);
            settle_failure(w, db, id, f.attempt, rc == GW_APPLY_IGNORED ? GW_APPLY_FAILED : rc,
                           f.error, f.defer_ms);
            go_on = false;
        }
    }
    gw_db_rows_free(row);
    return go_on;
}

/* Applies one claimed event on its own, fetching first when its provider does (`fetch`, as
 * the claim read it). */
static void apply_claimed(struct worker *w, struct gw_db *db, uint64_t id, bool fetch)
{
    char *fetched = NULL;
    if (fetch && !fetch_claimed(w, db, id, &fetched))
        return;
    struct apply_set one = {.ids = &id, .n = 1, .fetched = fetched};
    apply_events(w, db, &one);
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

/* A synchronous event on its own: claimed first (it is pending, just stored), then applied
 * as any claimed event; its request is handed back either way. */
static void handle_urgent(struct worker *w, struct gw_db *db, struct gw_pending *p)
{
    uint64_t id = p->events[0].event_id;
    if (!claim_one(w, db, id)) {
        hand_back(w->pool, p, GW_OUTCOME_TIMEOUT, NULL); /* someone else has it */
        return;
    }
    struct apply_set one = {.ids = &id, .n = 1, .waiters = &p};
    apply_events(w, db, &one);
}

/* Tells the outcome of a request the loop answered "working on it" before a writer decided
 * it (ingest.h: late), through its provider's deliver, and hands it back to be freed. */
static void tell_late(struct gw_workers *pool, struct gw_pending *p)
{
    const struct gw_provider *prov = p->endpoint->provider;
    const char *result = p->result         ? p->result /* answered by read() */
                         : p->n_events > 0 ? p->events[0].stored_result
                                           : NULL;
    if (p->n_events > 0 && prov->deliver != NULL)
        prov->deliver(p->endpoint, p->events[0].body, p->events[0].body_len, p->outcome, result);
    gw_ingest_complete(pool->ingest, p);
}

/* Takes every synchronous request queued, up to a batch (lock held): under load they are
 * applied together, in one transaction. */
static size_t take_urgent(struct gw_workers *pool, struct gw_pending **urgent)
{
    size_t n = 0;
    while (pool->urgent_head != NULL && n < CLAIM_BATCH) {
        struct gw_pending *p = pool->urgent_head;
        pool->urgent_head = p->next;
        p->next = NULL;
        urgent[n++] = p;
    }
    if (pool->urgent_head == NULL)
        pool->urgent_tail = NULL;
    return n;
}

static void apply_urgent(struct worker *w, struct gw_db *db, struct gw_pending **urgent, size_t n)
{
    uint64_t ids[CLAIM_BATCH];
    for (size_t i = 0; i < n; i++)
        ids[i] = urgent[i]->events[0].event_id;
    struct apply_set set = {.ids = ids, .n = n, .fresh = true, .waiters = urgent};
    if (!apply_events(w, db, &set))
        for (size_t i = 0; i < n; i++)
            handle_urgent(w, db, urgent[i]);
}

/* Claims what is due and applies it: events that fetch first alone, the rest in one
 * transaction. Returns how many were claimed. */
static size_t apply_due(struct worker *w, struct gw_db *db)
{
    uint64_t ids[CLAIM_BATCH], together[CLAIM_BATCH];
    bool fetch[CLAIM_BATCH];
    size_t n_together = 0;
    size_t claimed = claim_batch(w, db, ids, fetch, CLAIM_BATCH);
    for (size_t i = 0; i < claimed; i++) {
        if (fetch[i])
            apply_claimed(w, db, ids[i], true);
        else
            together[n_together++] = ids[i];
    }
    struct apply_set set = {.ids = together, .n = n_together};
    if (n_together > 0 && !apply_events(w, db, &set))
        for (size_t i = 0; i < n_together; i++)
            apply_claimed(w, db, together[i], false);
    return claimed;
}

/* Nothing to do: sleeps until a commit or a synchronous event wakes it, or the poll interval
 * passes (retries come due, other processes store events). */
static void idle(struct gw_workers *pool)
{
    struct timespec deadline = gw_deadline_in_ms(POLL_MS);
    pthread_mutex_lock(&pool->lock);
    while (!pool->stopping && pool->urgent_head == NULL && pool->wakeups == 0 &&
           pthread_cond_timedwait(&pool->wake, &pool->lock, &deadline) == 0)
        ;
    pthread_mutex_unlock(&pool->lock);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct gw_workers *pool = w->pool;
    gw_db_thread_init();
    time_t last_status = 0;
    for (;;) {
        struct gw_pending *urgent[CLAIM_BATCH];
        pthread_mutex_lock(&pool->lock);
        if (pool->stopping) {
            pthread_mutex_unlock(&pool->lock);
            break;
        }
        size_t taken = take_urgent(pool, urgent), n_urgent = 0;
        pool->wakeups = 0;
        pthread_mutex_unlock(&pool->lock);
        for (size_t i = 0; i < taken; i++) {
            if (urgent[i]->late)
                tell_late(pool, urgent[i]);
            else
                urgent[n_urgent++] = urgent[i];
        }
        if (taken > 0 && n_urgent == 0)
            continue;

        struct gw_db *db = gw_db_pool_acquire(pool->db, ACQUIRE_WAIT_MS);
        if (db == NULL) {
            for (size_t i = 0; i < n_urgent; i++)
                hand_back(pool, urgent[i], GW_OUTCOME_TIMEOUT, NULL);
            continue;
        }
        size_t worked = n_urgent;
        if (n_urgent > 0) {
            apply_urgent(w, db, urgent, n_urgent);
        } else {
            worked = apply_due(w, db);
            if (w->index == 0 && time(NULL) - last_status >= STATUS_EVERY_S) {
                refresh_status_counts(db);
                last_status = time(NULL);
            }
        }
        gw_db_pool_release(pool->db, db);
        if (worked == 0)
            idle(pool);
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
    p->next = NULL;
    pthread_mutex_lock(&pool->lock);
    if (pool->urgent_tail)
        pool->urgent_tail->next = p;
    else
        pool->urgent_head = p;
    pool->urgent_tail = p;
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
    struct gw_pending *left[CLAIM_BATCH];
    for (size_t n; (n = take_urgent(w, left)) > 0;)
        for (size_t i = 0; i < n; i++) {
            if (left[i]->late)
                tell_late(w, left[i]);
            else
                hand_back(w, left[i], GW_OUTCOME_TIMEOUT, NULL);
        }
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    free(w->threads);
    free(w);
}
