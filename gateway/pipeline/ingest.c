/* ingest.c — group-commit writer threads: each takes whatever verified events are queued (up
 * to ingest.batch_max), stores them in one transaction, and hands every request back to the
 * event loop only after that transaction committed. */
#include "gateway/pipeline/ingest.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "config/config.h"
#include "gateway/base/clock.h"
#include "gateway/base/hash.h"
#include "gateway/base/log.h"
#include "gateway/base/metrics.h"
#include "gateway/core/tenants.h"
#include "gateway/pipeline/audit_gate.h"
#include "gateway/db/inbox.h"

#define QUEUE_LIMIT          65536 /* pending requests at most; beyond, answer unavailable */
#define AUDIT_LIMIT          4096
#define AUDIT_FLUSH_MS       1000 /* audit rows alone wait at most this long for a writer */
#define AUDIT_PER_BATCH      256
#define ACQUIRE_WAIT_MS      2000
#define STATEMENT_BYTES      (4u << 20)
#define DEADLOCK_RETRIES     3
#define LINGER_BELOW         8 /* events: a smaller batch waits a moment for more */
#define LINGER_US            500
#define ER_LOCK_WAIT_TIMEOUT 1205
/* What a stored row takes besides its body: headers (1 KiB each at most), keys, the SQL. */
#define BODY_CAP_ROOM    (256u << 10)
#define ER_LOCK_DEADLOCK 1213

struct audit_row {
    char kind[32], endpoint[65], reason[128], source[64], request_id[65];
};

/* A queue of pending items linked through their own `next`. */
struct queue {
    struct gw_pending *head, *tail;
};

static void queue_push(struct queue *q, struct gw_pending *p)
{
    p->next = NULL;
    if (q->tail)
        q->tail->next = p;
    else
        q->head = p;
    q->tail = p;
}

static struct gw_pending *queue_pop(struct queue *q)
{
    struct gw_pending *p = q->head;
    if (p != NULL) {
        q->head = p->next;
        if (q->head == NULL)
            q->tail = NULL;
        p->next = NULL;
    }
    return p;
}

struct gw_ingest {
    const struct gw_config *cfg;
    struct gw_db_pool *pool;
    pthread_t *writers;
    size_t n_writers;

    pthread_mutex_t lock;
    pthread_cond_t work;
    struct queue queue; /* submitted, not yet taken by a writer */
    size_t queued;
    struct audit_row *audit;
    size_t n_audit;
    struct gw_audit_gate *gate; /* which rejections get a row of their own (lock held) */
    uint64_t audit_flushed_ms;  /* when a writer last took audit rows (lock held) */
    bool stopping;

    /* Completion queue back to the loop. */
    pthread_mutex_t done_lock;
    struct queue done;
    struct event *done_event;

    void (*sync_handler)(void *ud, struct gw_pending *p);
    void *sync_ud;
    void (*commit_hook)(void *ud);
    void *commit_ud;
    /* Writers using a copy of the hooks right now; a setter waits for them to finish so
     * that whoever installed the hooks may free what they point at once it returns. */
    unsigned hooks_in_use;
    pthread_cond_t hooks_idle;
    unsigned committing; /* writers between taking a batch and finishing it */
    /* The largest body the database takes in one row (its max_allowed_packet less room for
     * the row's other columns); 0 until a writer has asked. Written by writers, read by the
     * loop: an atomic, no owner. */
    _Atomic uint64_t body_cap;
};

void gw_pending_free(struct gw_pending *p)
{
    if (p == NULL)
        return;
    if (p->deadline != NULL)
        event_free(p->deadline);
    for (size_t i = 0; i < p->n_events; i++) {
        free(p->events[i].body);
        free(p->events[i].stored_result);
    }
    free(p->events);
    free(p->media_type);
    free(p->headers_json);
    free(p->result);
    free(p);
}

static uint64_t random_u64(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof(v), 0) != (ssize_t)sizeof(v))
        v = (uint64_t)clock() ^ ((uint64_t)rand() << 32); /* only distinguishes batches */
    /* 63 bits: the column is BIGINT UNSIGNED but parameters travel as signed 64-bit. */
    v &= (uint64_t)INT64_MAX;
    return v ? v : 1;
}

/* ------------------------------------------------------------------ completion queue */

void gw_ingest_complete(struct gw_ingest *in, struct gw_pending *p)
{
    pthread_mutex_lock(&in->done_lock);
    queue_push(&in->done, p);
    pthread_mutex_unlock(&in->done_lock);
    event_active(in->done_event, EV_READ, 0);
}

static void drain_done(evutil_socket_t fd, short what, void *arg)
{
    struct gw_ingest *in = arg;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&in->done_lock);
    struct queue list = in->done;
    in->done.head = in->done.tail = NULL;
    pthread_mutex_unlock(&in->done_lock);
    for (struct gw_pending *p; (p = queue_pop(&list)) != NULL;)
        p->on_done(p);
}

/* ------------------------------------------------------------------ submission */

bool gw_ingest_submit(struct gw_ingest *in, struct gw_pending *p)
{
    pthread_mutex_lock(&in->lock);
    if (in->stopping || in->queued >= QUEUE_LIMIT) {
        pthread_mutex_unlock(&in->lock);
        return false;
    }
    queue_push(&in->queue, p);
    in->queued++;
    pthread_cond_signal(&in->work);
    pthread_mutex_unlock(&in->lock);
    return true;
}

bool gw_ingest_audit(struct gw_ingest *in, const char *kind, const char *endpoint,
                     const char *reason, const char *source_address, const char *request_id)
{
    pthread_mutex_lock(&in->lock);
    bool had_counts = gw_audit_gate_pending(in->gate);
    if (!in->stopping && !gw_audit_gate_admit(in->gate, kind, endpoint, source_address,
                                              gw_monotonic_ns() / 1000000)) {
        /* Counted into the window's summary row; a writer sleeping without a deadline is
         * told once, to keep one for the window's end. */
        if (!had_counts && in->n_audit == 0)
            pthread_cond_signal(&in->work);
        pthread_mutex_unlock(&in->lock);
        return false;
    }
    if (in->n_audit >= AUDIT_LIMIT || in->stopping) {
        pthread_mutex_unlock(&in->lock);
        gw_metrics_count_audit_dropped();
        gw_log_warn(request_id, "audit queue full: dropped %s for endpoint %s", kind,
                    endpoint ? endpoint : "-");
        return true;
    }
    struct audit_row *a = &in->audit[in->n_audit++];
    snprintf(a->kind, sizeof(a->kind), "%s", kind);
    snprintf(a->endpoint, sizeof(a->endpoint), "%s", endpoint ? endpoint : "");
    snprintf(a->reason, sizeof(a->reason), "%s", reason ? reason : "");
    snprintf(a->source, sizeof(a->source), "%s", source_address ? source_address : "");
    snprintf(a->request_id, sizeof(a->request_id), "%s", request_id ? request_id : "");
    /* A writer is woken for the first audit row only: the rest go with the next batch, or
     * within AUDIT_FLUSH_MS of the last flush, so that a flood of rejections wakes the
     * writers at most once a second and never competes with real events. */
    if (in->n_audit == 1 && !had_counts)
        pthread_cond_signal(&in->work);
    pthread_mutex_unlock(&in->lock);
    return true;
}

/* A window's summary row (gw_audit_gate_emit; lock held). */
static void audit_summary(void *ud, const char *kind, const char *endpoint, const char *source,
                          uint64_t count, uint64_t window_ms)
{
    struct gw_ingest *in = ud;
    if (in->n_audit >= AUDIT_LIMIT) {
        gw_metrics_count_audit_dropped();
        return;
    }
    struct audit_row *a = &in->audit[in->n_audit++];
    snprintf(a->kind, sizeof(a->kind), "%.23s_summary", kind);
    snprintf(a->endpoint, sizeof(a->endpoint), "%s", endpoint);
    snprintf(a->reason, sizeof(a->reason),
             "%llu more %s not written one by one, from %s, within %llu s",
             (unsigned long long)count, kind, source[0] ? source : "many sources",
             (unsigned long long)(window_ms / 1000));
    snprintf(a->source, sizeof(a->source), "%s", source);
    a->request_id[0] = '\0';
}

/* ------------------------------------------------------------------ the batch */

struct row_ref {
    struct gw_pending *p;
    struct gw_pending_event *e;
    uint64_t company_id; /* 0: NULL */
    const char *status;
    char why[160];
    unsigned char sha[32];
    /* Synchronous events are applied by the worker this process hands them to; other
     * pollers leave them alone for this long, then take over (that worker died). */
    unsigned defer_s;
    /* The provider's read() answered it: stored done with this result (the item's). */
    const char *read_result;
};

struct batch {
    struct row_ref *rows;
    size_t n_rows;
    struct gw_pending **items;
    size_t n_items;
    struct audit_row audit[AUDIT_PER_BATCH];
    size_t n_audit;
    /* What is handed to a provider's read(): one per row, and the row each stands for. */
    struct gw_read *reads;
    size_t *read_rows;
    /* items[i] was refused by the database when stored alone (see store_one_by_one). */
    bool *refused;
};

/* Stores rows[0..k) through the inbox's one INSERT. Returns each row's stored event (see
 * gw_inbox_insert_returning), or NULL. */
static struct gw_db_rows *insert_rows(struct gw_db *db, struct row_ref *rows, size_t k,
                                      uint64_t token)
{
    struct gw_inbox_row in[64];
    if (k > sizeof(in) / sizeof(in[0]))
        return NULL;
    for (size_t i = 0; i < k; i++) {
        struct row_ref *r = &rows[i];
        in[i] = (struct gw_inbox_row){
            .endpoint = r->p->endpoint->id,
            .provider = r->p->endpoint->provider->name,
            .company_id = r->company_id,
            .dedupe_key = r->e->env.dedupe_key,
            .request_id = r->p->request_id,
            .batch = token,
            .status = r->status,
            .last_error = r->why,
            .source_address = r->p->peer,
            .content_type = r->p->media_type,
            .headers = r->p->headers_json,
            .body = r->e->body,
            .body_len = r->e->body_len,
            .body_sha256 = r->sha,
            .defer_s = r->defer_s,
            .result = r->read_result,
        };
    }
    return gw_inbox_insert_returning(db, in, k);
}

static const size_t chunk_sizes[] = GW_INBOX_INSERT_SIZES;

/* Ids for the rows of one statement, from what it returned (STORED), matched by key. A row
 * this batch inserted (its ingest_batch is ours) is new for its first row and a duplicate
 * for any later row with the same key; one stored before is a duplicate, answered with its
 * id and result. */
static int resolve_rows(const struct gw_db_rows *stored, struct batch *b, size_t from, size_t k,
                        uint64_t token)
{
    size_t n = gw_db_rows_count(stored);
    for (size_t i = from; i < from + k; i++) {
        struct row_ref *r = &b->rows[i];
        size_t at = n;
        for (size_t s = 0; s < n && at == n; s++) {
            const char *ep = gw_db_rows_text(stored, s, 2, NULL);
            const char *key = gw_db_rows_text(stored, s, 3, NULL);
            /* endpoint compares as its column's collation does; dedupe_key is ascii_bin. */
            if (ep != NULL && key != NULL && strcasecmp(ep, r->p->endpoint->id) == 0 &&
                strcmp(key, r->e->env.dedupe_key) == 0)
                at = s;
        }
        if (at == n)
            return -1; /* never answer without an id */
        uint64_t id = (uint64_t)gw_db_rows_int(stored, at, 0, 0);
        if (id == 0)
            return -1;
        bool ours = gw_db_rows_int(stored, at, 1, -1) == (int64_t)token;
        bool seen = false;
        for (size_t j = 0; j < i && !seen; j++)
            seen = b->rows[j].e->event_id == id;
        r->e->event_id = id;
        r->e->duplicate = !ours || seen;
        if (!ours) {
            const char *res = gw_db_rows_text(stored, at, 4, NULL);
            r->e->stored_result = res ? strdup(res) : NULL;
        }
    }
    return 0;
}

/* Forgets what read() answered: the batch did not commit, or the event was a replay. */
static void drop_read(struct row_ref *r)
{
    if (r->read_result == NULL)
        return;
    free(r->p->result);
    r->p->result = NULL;
    r->read_result = NULL;
}

/* Hands the batch's new synchronous events of providers with read() to it, one call per
 * provider, inside the open transaction: what it answers is stored done with its result
 * and never reaches a worker. A failed read leaves every event to the workers, as if the
 * provider had none; only the transaction's own failure is the batch's. */
static void read_events(struct gw_db *db, struct batch *b)
{
    for (size_t i = 0; i < b->n_rows; i++) {
        const struct gw_provider *prov = b->rows[i].p->endpoint->provider;
        if (prov->read == NULL || !(prov->flags & GW_PROVIDER_SYNC))
            continue;
        bool seen = false; /* an earlier row of this provider took them all */
        for (size_t k = 0; k < i && !seen; k++)
            seen = b->rows[k].p->endpoint->provider == prov;
        if (seen)
            continue;
        size_t n = 0;
        for (size_t k = i; k < b->n_rows; k++) {
            struct row_ref *r = &b->rows[k];
            if (r->p->endpoint->provider != prov || r->company_id == 0 || r->p->n_events != 1 ||
                r->p->result != NULL)
                continue;
            b->reads[n] = (struct gw_read){
                .endpoint = r->p->endpoint,
                .company_id = r->company_id,
                .body = r->e->body ? r->e->body : (const unsigned char *)"",
                .body_len = r->e->body_len,
                .received_at = (int64_t)time(NULL),
            };
            b->read_rows[n++] = k;
        }
        char err[256] = "";
        bool ok = n == 0 || prov->read(db, b->reads, n, err, sizeof(err));
        if (!ok)
            gw_log_warn(NULL, "%s: %zu event(s) left to the workers: %s", prov->name, n, err);
        for (size_t k = 0; k < n; k++) {
            struct row_ref *r = &b->rows[b->read_rows[k]];
            if (ok && b->reads[k].result != NULL) {
                r->p->result = b->reads[k].result;
                r->read_result = r->p->result;
                r->status = "done";
            } else {
                free(b->reads[k].result);
            }
            b->reads[k].result = NULL;
        }
    }
}

/* Stores the batch in one transaction. 0 on commit; -1 with the reason in err. */
static int write_batch(struct gw_db *db, struct gw_tenants *tenants, struct batch *b,
                       bool sync_handled, char *err, size_t err_len)
{
    uint64_t token = random_u64();
    if (gw_db_begin(db) != 0)
        goto fail;
    for (size_t i = 0; i < b->n_rows; i++) {
        struct row_ref *r = &b->rows[i];
        const struct gw_endpoint_config *ep = r->p->endpoint;
        gw_sha256(r->e->body, r->e->body_len, r->sha);
        r->read_result = NULL;
        r->why[0] = '\0';
        if (r->e->env.tenant[0] == '\0' && ep->company == NULL &&
            (ep->provider->flags & GW_PROVIDER_OWN_ROUTING)) {
            /* Its apply finds the company (e-mail's recipients and thread ids). */
            r->company_id = 0;
            r->status = "pending";
            r->e->ignored = false;
            r->defer_s = 0;
            continue;
        }
        enum gw_tenant_rc t = gw_tenants_resolve(
            tenants, db, ep->provider->name, r->e->env.tenant[0] ? NULL : ep->company,
            r->e->env.tenant, &r->company_id, r->why, sizeof(r->why));
        if (t == GW_TENANT_DB_ERROR)
            goto fail;
        r->status = t == GW_TENANT_FOUND ? "pending" : "ignored";
        r->e->ignored = t != GW_TENANT_FOUND;
        r->defer_s = (ep->provider->flags & GW_PROVIDER_SYNC) && sync_handled ? 30 : 0;
        if (t != GW_TENANT_FOUND)
            r->company_id = 0;
        r->read_result = NULL;
    }
    read_events(db, b);
    for (size_t at = 0; at < b->n_rows;) {
        size_t left = b->n_rows - at, k = 1;
        for (size_t c = 0; c < sizeof(chunk_sizes) / sizeof(chunk_sizes[0]); c++) {
            size_t bytes = 0;
            for (size_t i = 0; i < chunk_sizes[c] && i < left; i++)
                bytes += b->rows[at + i].e->body_len;
            /* One statement is one packet: keep it well under max_allowed_packet. */
            if (chunk_sizes[c] <= left && (bytes <= STATEMENT_BYTES || chunk_sizes[c] == 1)) {
                k = chunk_sizes[c];
                break;
            }
        }
        struct gw_db_rows *stored = insert_rows(db, &b->rows[at], k, token);
        if (stored == NULL)
            goto fail;
        int resolved = resolve_rows(stored, b, at, k, token);
        gw_db_rows_free(stored);
        if (resolved != 0)
            goto fail;
        for (size_t i = at; i < at + k; i++)
            if (b->rows[i].e->duplicate)
                drop_read(&b->rows[i]); /* not inserted: the stored event answers */
        at += k;
    }
    if (gw_db_commit(db) != 0)
        goto fail;
    return 0;
fail:
    snprintf(err, err_len, "%s", gw_db_error(db));
    gw_db_rollback(db);
    for (size_t i = 0; i < b->n_rows; i++) {
        drop_read(&b->rows[i]);
        b->rows[i].e->event_id = 0;
        b->rows[i].e->duplicate = false;
        b->rows[i].e->ignored = false;
        free(b->rows[i].e->stored_result);
        b->rows[i].e->stored_result = NULL;
    }
    return -1;
}

/* Decides each request's outcome after the batch and hands it on. */
struct hooks {
    void (*sync_handler)(void *ud, struct gw_pending *p);
    void *sync_ud;
    void (*commit_hook)(void *ud);
    void *commit_ud;
};

static void finish_items(struct gw_ingest *in, const struct hooks *h, struct batch *b, bool stored,
                         const char *err)
{
    for (size_t i = 0; i < b->n_items; i++) {
        struct gw_pending *p = b->items[i];
        if (!stored || b->refused[i]) {
            p->outcome = GW_OUTCOME_UNAVAILABLE;
            snprintf(p->error, sizeof(p->error), "%s",
                     stored ? "the database refused this request" : err);
            gw_ingest_complete(in, p);
            continue;
        }
        bool all_dup = true, all_ignored = true;
        const char *why = NULL;
        for (size_t k = 0; k < p->n_events; k++) {
            all_dup = all_dup && p->events[k].duplicate;
            all_ignored = all_ignored && p->events[k].ignored && !p->events[k].duplicate;
        }
        for (size_t k = 0; k < b->n_rows && why == NULL; k++)
            if (b->rows[k].p == p && b->rows[k].e->ignored)
                why = b->rows[k].why;
        p->outcome = all_dup       ? GW_OUTCOME_DUPLICATE
                     : all_ignored ? GW_OUTCOME_IGNORED
                                   : GW_OUTCOME_ACCEPTED;
        if (p->outcome == GW_OUTCOME_ACCEPTED && p->result != NULL) {
            /* Answered by the provider's read() and stored done with it: no worker. */
            p->outcome = GW_OUTCOME_APPLIED;
            gw_metrics_count_attempt(0);
            gw_ingest_complete(in, p);
            continue;
        }
        if (p->outcome == GW_OUTCOME_IGNORED) {
            snprintf(p->error, sizeof(p->error), "%s", why ? why : "no company");
            gw_ingest_complete(in, p);
            continue;
        }
        /* A synchronous provider stores one event a request; a new one goes to a worker. */
        if (!all_dup && (p->endpoint->provider->flags & GW_PROVIDER_SYNC) && p->n_events == 1 &&
            h->sync_handler != NULL) {
            atomic_store(&p->committed, true);
            h->sync_handler(h->sync_ud, p);
            continue;
        }
        gw_ingest_complete(in, p);
    }
}

/* Moves queued requests into the batch, up to batch_max events (lock held). */
static void take_items(struct gw_ingest *in, struct batch *b)
{
    while (in->queue.head != NULL &&
           (b->n_rows == 0 || b->n_rows + in->queue.head->n_events <= in->cfg->ingest.batch_max)) {
        struct gw_pending *p = queue_pop(&in->queue);
        in->queued--;
        b->items[b->n_items++] = p;
        for (size_t k = 0; k < p->n_events; k++)
            b->rows[b->n_rows++] = (struct row_ref){.p = p, .e = &p->events[k]};
    }
}

/* What one writer thread keeps between batches. */
struct writer {
    struct gw_ingest *in;
    struct gw_tenants *tenants;
    struct batch b;
};

/* Waits for work and takes the next batch: whatever is queued, up to batch_max events, and
 * up to AUDIT_PER_BATCH audit rows. Returns false when the writer should exit. On true the
 * hooks to use are in H and the writer counts as committing until finish_batch. */
static bool take_batch(struct writer *wr, struct hooks *h)
{
    struct gw_ingest *in = wr->in;
    struct batch *b = &wr->b;
    pthread_mutex_lock(&in->lock);
    /* Events wake a writer; audit rows alone wait for the next batch, or AUDIT_FLUSH_MS. */
    for (;;) {
        uint64_t now = gw_monotonic_ns() / 1000000;
        gw_audit_gate_sweep(in->gate, now, in->stopping, audit_summary, in);
        if (in->stopping || in->queue.head != NULL)
            break;
        uint64_t since = now - in->audit_flushed_ms;
        if (in->n_audit > 0 && since >= AUDIT_FLUSH_MS)
            break;
        if (in->n_audit == 0 && !gw_audit_gate_pending(in->gate)) {
            pthread_cond_wait(&in->work, &in->lock);
            continue;
        }
        struct timespec until =
            gw_deadline_in_ms(in->n_audit > 0 ? AUDIT_FLUSH_MS - since : AUDIT_FLUSH_MS);
        pthread_cond_timedwait(&in->work, &in->lock, &until);
    }
    if (in->stopping && in->queue.head == NULL && in->n_audit == 0) {
        pthread_mutex_unlock(&in->lock);
        return false;
    }
    b->n_rows = b->n_items = b->n_audit = 0;
    /* Under load batches grow by themselves, and one commit (one fsync) acknowledges them
     * all. */
    take_items(in, b);
    /* A writer woken by the first request of a burst would commit it alone while the rest
     * arrive: while another writer is busy committing, wait a moment for company. */
    if (b->n_rows < LINGER_BELOW && in->committing > 0 && !in->stopping) {
        struct timespec until = gw_deadline_in_ms(0);
        until.tv_nsec += LINGER_US * 1000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (in->queue.head == NULL && !in->stopping &&
               pthread_cond_timedwait(&in->work, &in->lock, &until) == 0)
            ;
        take_items(in, b);
    }
    in->committing++;
    b->n_audit = in->n_audit < AUDIT_PER_BATCH ? in->n_audit : AUDIT_PER_BATCH;
    if (b->n_audit > 0)
        in->audit_flushed_ms = gw_monotonic_ns() / 1000000;
    memcpy(b->audit, in->audit, b->n_audit * sizeof(struct audit_row));
    memmove(in->audit, in->audit + b->n_audit,
            (in->n_audit - b->n_audit) * sizeof(struct audit_row));
    in->n_audit -= b->n_audit;
    *h = (struct hooks){in->sync_handler, in->sync_ud, in->commit_hook, in->commit_ud};
    in->hooks_in_use++;
    pthread_mutex_unlock(&in->lock);
    return true;
}

/* Stores the batch, retrying a deadlock. True when it committed; else the reason in ERR. */
/* The batch's audit rows in one multi-row INSERT of their own, after (and outside) the
 * events' transaction: a failure loses them (logged, counted), never an event. */
static void write_audit(struct gw_db *db, const struct batch *b)
{
    if (b->n_audit == 0)
        return;
    static const char head[] =
        "INSERT INTO audit_log (kind, endpoint, reason, source_address, request_id) VALUES ";
    size_t cap = sizeof(head) + b->n_audit * 20;
    char *sql = malloc(cap);
    struct gw_db_value *p = calloc(b->n_audit * 5, sizeof(*p));
    bool ok = sql != NULL && p != NULL;
    if (ok) {
        size_t len = (size_t)snprintf(sql, cap, "%s", head);
        for (size_t i = 0; i < b->n_audit; i++) {
            const struct audit_row *a = &b->audit[i];
            len += (size_t)snprintf(sql + len, cap - len, "%s(?, ?, ?, ?, ?)", i ? ", " : "");
            p[i * 5] = GW_DB_TEXT(a->kind);
            p[i * 5 + 1] = a->endpoint[0] ? GW_DB_TEXT(a->endpoint) : GW_DB_NULL;
            p[i * 5 + 2] = GW_DB_TEXT(a->reason);
            p[i * 5 + 3] = a->source[0] ? GW_DB_TEXT(a->source) : GW_DB_NULL;
            p[i * 5 + 4] = a->request_id[0] ? GW_DB_TEXT(a->request_id) : GW_DB_NULL;
        }
        ok = gw_db_exec(db, sql, p, b->n_audit * 5) >= 0;
    }
    if (!ok) {
        gw_log_warn(NULL, "%zu audit row(s) lost: %s", b->n_audit,
                    sql && p ? gw_db_error(db) : "out of memory");
        for (size_t i = 0; i < b->n_audit; i++)
            gw_metrics_count_audit_dropped();
    }
    free(sql);
    free(p);
}

static bool write_retrying(struct gw_db *db, struct writer *wr, struct batch *b, bool sync_handled,
                           char *err, size_t err_len)
{
    bool stored = false;
    /* Two writers (or two instances) inserting overlapping keys can deadlock; InnoDB rolls
     * one back, which is safe to run again. */
    for (int attempt = 0; attempt < DEADLOCK_RETRIES && !stored; attempt++) {
        stored = write_batch(db, wr->tenants, b, sync_handled, err, err_len) == 0;
        unsigned no = gw_db_errno(db);
        if (!stored && no != ER_LOCK_DEADLOCK && no != ER_LOCK_WAIT_TIMEOUT)
            break;
    }
    return stored;
}

/* A batch the database refused while the connection is fine: one of its rows holds what the
 * checks let through and the server will not take. Each request is stored alone, so that
 * only the culprit is refused (b->refused) and the rest, of every tenant, are acknowledged.
 * True: every request was settled one way or the other. */
static bool store_one_by_one(struct gw_db *db, struct writer *wr, bool sync_handled)
{
    struct batch *b = &wr->b;
    struct row_ref *rows = b->rows;
    struct gw_pending **items = b->items;
    size_t n_rows = b->n_rows, n_items = b->n_items, at = 0;
    char err[256];
    for (size_t i = 0; i < n_items; i++) {
        b->items = &items[i];
        b->n_items = 1;
        b->rows = &rows[at];
        b->n_rows = items[i]->n_events;
        at += b->n_rows;
        b->refused[i] = !write_retrying(db, wr, b, sync_handled, err, sizeof(err));
        if (b->refused[i])
            gw_log_warn(items[i]->request_id, "%s: request refused by the database, not stored: %s",
                        items[i]->endpoint->id, err);
    }
    b->rows = rows;
    b->items = items;
    b->n_rows = n_rows;
    b->n_items = n_items;
    return true;
}

/* Reads the largest row the database takes, once a connection answers, and warns about the
 * endpoints whose max_body it lowers. */
static void learn_body_cap(struct gw_ingest *in, struct gw_db *db)
{
    if (atomic_load(&in->body_cap) != 0)
        return;
    struct gw_db_rows *rows = gw_db_query(db, "SELECT @@max_allowed_packet", NULL, 0, 1);
    int64_t packet = rows != NULL ? gw_db_rows_int(rows, 0, 0, 0) : 0;
    gw_db_rows_free(rows);
    if (packet <= (int64_t)BODY_CAP_ROOM)
        return;
    uint64_t cap = (uint64_t)packet - BODY_CAP_ROOM, none = 0;
    if (!atomic_compare_exchange_strong(&in->body_cap, &none, cap))
        return;
    for (size_t i = 0; i < in->cfg->n_endpoints; i++)
        if (in->cfg->endpoints[i].max_body > cap)
            gw_log_warn(NULL,
                        "endpoint %s: bodies over %" PRIu64 " bytes are refused (413), not %" PRIu64
                        ": the database takes packets of %" PRId64 " bytes at most "
                        "(max_allowed_packet)",
                        in->cfg->endpoints[i].id, cap, in->cfg->endpoints[i].max_body, packet);
}

uint64_t gw_ingest_body_cap(struct gw_ingest *in)
{
    return in != NULL ? atomic_load(&in->body_cap) : 0;
}

static bool store_batch(struct writer *wr, bool sync_handled, char *err, size_t err_len)
{
    struct gw_db *db = gw_db_pool_acquire(wr->in->pool, ACQUIRE_WAIT_MS);
    if (db == NULL) {
        snprintf(err, err_len, "no database connection available");
        return false;
    }
    learn_body_cap(wr->in, db);
    memset(wr->b.refused, 0, wr->b.n_items * sizeof(bool));
    bool stored = wr->b.n_rows == 0 || write_retrying(db, wr, &wr->b, sync_handled, err, err_len);
    /* Request by request only when a row was refused: after lock waits or deadlocks (the
     * retries are spent) each of N rows would wait as long again. */
    unsigned no = gw_db_errno(db);
    if (!stored && wr->b.n_items > 1 && !gw_db_error_is_connection(db) && gw_db_ok(db) &&
        no != ER_LOCK_DEADLOCK && no != ER_LOCK_WAIT_TIMEOUT)
        stored = store_one_by_one(db, wr, sync_handled);
    write_audit(db, &wr->b);
    gw_db_pool_release(wr->in->pool, db);
    return stored;
}

/* Hands every request of the batch on and releases the hooks take_batch lent. */
static void finish_batch(struct writer *wr, const struct hooks *h, bool stored, const char *err)
{
    struct gw_ingest *in = wr->in;
    struct batch *b = &wr->b;
    if (stored) {
        if (b->n_rows > 0)
            gw_metrics_observe_batch(b->n_rows);
    } else {
        gw_log_error(NULL, "ingest batch of %zu event(s) not stored: %s", b->n_rows, err);
    }
    finish_items(in, h, b, stored, err);
    if (stored && h->commit_hook != NULL)
        h->commit_hook(h->commit_ud);
    pthread_mutex_lock(&in->lock);
    in->committing--;
    if (--in->hooks_in_use == 0)
        pthread_cond_broadcast(&in->hooks_idle);
    pthread_mutex_unlock(&in->lock);
}

static void writer_finish(struct writer *wr)
{
    gw_tenants_destroy(wr->tenants);
    free(wr->b.rows);
    free(wr->b.items);
    free(wr->b.reads);
    free(wr->b.read_rows);
    free(wr->b.refused);
}

/* A batch takes whole requests: room for batch_max events plus the largest request. */
static int writer_init(struct writer *wr, struct gw_ingest *in)
{
    *wr = (struct writer){.in = in};
    size_t largest = GW_PROVIDER_MAX_EVENTS;
    for (size_t i = 0; i < in->cfg->n_endpoints; i++) {
        size_t m = gw_provider_max_events(in->cfg->endpoints[i].provider);
        largest = m > largest ? m : largest;
    }
    size_t cap_rows = in->cfg->ingest.batch_max + largest;
    wr->tenants = gw_tenants_create();
    wr->b.rows = calloc(cap_rows, sizeof(struct row_ref));
    wr->b.items = calloc(cap_rows, sizeof(struct gw_pending *));
    wr->b.reads = calloc(cap_rows, sizeof(struct gw_read));
    wr->b.read_rows = calloc(cap_rows, sizeof(size_t));
    wr->b.refused = calloc(cap_rows, sizeof(bool));
    if (wr->tenants == NULL || wr->b.rows == NULL || wr->b.items == NULL || wr->b.reads == NULL ||
        wr->b.read_rows == NULL || wr->b.refused == NULL) {
        writer_finish(wr);
        return -1;
    }
    return 0;
}

static void *writer_main(void *arg)
{
    struct writer wr;
    if (writer_init(&wr, arg) != 0) {
        gw_log_error(NULL, "ingest writer: out of memory at start");
        return NULL;
    }
    gw_db_thread_init();
    /* The body cap before the first request, when the database answers at start. */
    struct gw_db *db = gw_db_pool_acquire(wr.in->pool, 0);
    if (db != NULL) {
        learn_body_cap(wr.in, db);
        gw_db_pool_release(wr.in->pool, db);
    }
    struct hooks h;
    while (take_batch(&wr, &h)) {
        char err[256];
        bool stored = store_batch(&wr, h.sync_handler != NULL, err, sizeof(err));
        finish_batch(&wr, &h, stored, err);
    }
    gw_db_thread_end();
    writer_finish(&wr);
    return NULL;
}

struct gw_ingest *gw_ingest_start(const struct gw_config *cfg, struct event_base *base,
                                  struct gw_db_pool *pool)
{
    struct gw_ingest *in = calloc(1, sizeof(*in));
    if (in == NULL)
        return NULL;
    in->cfg = cfg;
    in->pool = pool;
    in->audit = calloc(AUDIT_LIMIT, sizeof(struct audit_row));
    in->gate = gw_audit_gate_create(cfg->limits.audit_each, cfg->limits.audit_window_ms);
    in->n_writers = cfg->ingest.writers ? cfg->ingest.writers : 1;
    in->writers = calloc(in->n_writers, sizeof(pthread_t));
    in->done_event = event_new(base, -1, 0, drain_done, in);
    if (in->audit == NULL || in->gate == NULL || in->writers == NULL || in->done_event == NULL) {
        gw_audit_gate_destroy(in->gate);
        free(in->audit);
        free(in->writers);
        if (in->done_event)
            event_free(in->done_event);
        free(in);
        return NULL;
    }
    pthread_mutex_init(&in->lock, NULL);
    gw_cond_init_monotonic(&in->work); /* the linger waits on it with a monotonic deadline */
    pthread_cond_init(&in->hooks_idle, NULL);
    pthread_mutex_init(&in->done_lock, NULL);
    for (size_t i = 0; i < in->n_writers; i++) {
        if (pthread_create(&in->writers[i], NULL, writer_main, in) != 0) {
            in->n_writers = i;
            gw_ingest_stop(in);
            return NULL;
        }
    }
    return in;
}

void gw_ingest_set_sync_handler(struct gw_ingest *in,
                                void (*handler)(void *ud, struct gw_pending *p), void *ud)
{
    pthread_mutex_lock(&in->lock);
    in->sync_handler = handler;
    in->sync_ud = ud;
    while (in->hooks_in_use > 0)
        pthread_cond_wait(&in->hooks_idle, &in->lock);
    pthread_mutex_unlock(&in->lock);
}

bool gw_ingest_hand_to_workers(struct gw_ingest *in, struct gw_pending *p)
{
    pthread_mutex_lock(&in->lock);
    void (*handler)(void *ud, struct gw_pending *p) = in->sync_handler;
    void *ud = in->sync_ud;
    if (handler != NULL)
        in->hooks_in_use++; /* the setter waits for us, as for a writer */
    pthread_mutex_unlock(&in->lock);
    if (handler == NULL)
        return false;
    handler(ud, p);
    pthread_mutex_lock(&in->lock);
    if (--in->hooks_in_use == 0)
        pthread_cond_broadcast(&in->hooks_idle);
    pthread_mutex_unlock(&in->lock);
    return true;
}

void gw_ingest_set_commit_hook(struct gw_ingest *in, void (*hook)(void *ud), void *ud)
{
    pthread_mutex_lock(&in->lock);
    in->commit_hook = hook;
    in->commit_ud = ud;
    while (in->hooks_in_use > 0)
        pthread_cond_wait(&in->hooks_idle, &in->lock);
    pthread_mutex_unlock(&in->lock);
}

void gw_ingest_stop(struct gw_ingest *in)
{
    if (in == NULL)
        return;
    pthread_mutex_lock(&in->lock);
    in->stopping = true;
    pthread_cond_broadcast(&in->work);
    pthread_mutex_unlock(&in->lock);
    /* Writers finish the queue before they exit: everything submitted gets its answer. */
    for (size_t i = 0; i < in->n_writers; i++)
        pthread_join(in->writers[i], NULL);
    drain_done(-1, 0, in);
    event_free(in->done_event);
    pthread_mutex_destroy(&in->lock);
    pthread_cond_destroy(&in->work);
    pthread_cond_destroy(&in->hooks_idle);
    pthread_mutex_destroy(&in->done_lock);
    gw_audit_gate_destroy(in->gate);
    free(in->audit);
    free(in->writers);
    free(in);
}
