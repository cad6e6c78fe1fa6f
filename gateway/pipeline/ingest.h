/* ingest.h — the durable path of a verified request: writer threads that store queued events
 * in group commits, a completion queue back to the event loop, and the hand-over of events
 * that must be applied at once (synchronous providers) to the workers.
 *
 * Ownership of a struct gw_pending: it is created and finally freed on the loop thread. In
 * between it belongs to exactly one thread at a time, and is passed on through queues that
 * link it by its own `next` field (so a hand-over never allocates, and never fails): the
 * loop submits it to a writer; the writer hands it back to the loop, or, for a new
 * synchronous event its provider's read() did not answer, to a worker, which hands it back
 * to the loop. (One read() answered is handed back with outcome APPLIED and its result, the
 * event stored done in the same commit; the writer needs no compare-and-swap for it, since
 * nobody else answers while it holds the item: a deadline that fired meanwhile answered
 * TIMEOUT, and the loop has the result told late, as for the writer's other outcomes.) Whoever
 * holds it may write the fields marked "holder"; the loop never touches a pending item it has
 * handed away, except the fields marked "loop" (its own bookkeeping) and the read-only ones.
 *
 * The one race is the synchronous answer: while a worker holds the item, the loop's
 * deadline and the worker's commit both want to answer the request. They settle it once
 * with a compare-and-swap on `answer_state`, and whoever loses touches nothing: the loop
 * then answers TIMEOUT from the read-only fields alone and waits for the hand-back to free
 * the item; a worker that lost writes no outcome or result (it delivers the result the
 * provider's own way) and just hands the item back. */
#ifndef CTGW_INGEST_H
#define CTGW_INGEST_H

#include <event2/event.h>
#include <event2/http.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapters/provider.h"
#include "config/config.h"
#include "gateway/db/db_pool.h"

struct gw_pending_event {
    struct gw_envelope env;
    unsigned char *body; /* owned copy of what is stored */
    size_t body_len;
    /* Written by the writer before it hands the item on; read-only after. */
    uint64_t event_id;
    bool duplicate;
    bool ignored;        /* stored as ignored (unknown tenant); why in the item's error */
    char *stored_result; /* duplicate of an applied event: its result (owned) */
};

enum { GW_ANSWER_WAITING, GW_ANSWER_BY_LOOP, GW_ANSWER_WITH_RESULT };

struct gw_pending {
    /* Loop: only the loop thread reads or writes these, whoever holds the item. */
    struct evhttp_request *req;
    char request_id[65];
    char peer[64];
    uint64_t start_ns;
    struct event *deadline; /* synchronous providers */
    /* The loop answered TIMEOUT: the hand-back only frees, or hands the item to a worker once
     * more to tell the outcome late. */
    bool timed_out;
    void (*on_done)(struct gw_pending *p); /* called on the loop when handed back */
    void *owner;                           /* for on_done: whoever submitted it */

    /* Atomics: shared by the loop and the holder. */
    /* Who answers a synchronous request: GW_ANSWER_WAITING until either the loop's deadline
     * (GW_ANSWER_BY_LOOP) or the worker (GW_ANSWER_WITH_RESULT) wins the compare-and-swap. */
    atomic_int answer_state;
    atomic_bool committed; /* set by the writer once the event's transaction committed */

    /* Read-only from submission to the final free. */
    const struct gw_endpoint_config *endpoint;
    char *media_type;
    char *headers_json;              /* allow-listed headers, stored with each event */
    struct gw_pending_event *events; /* n_events of them, allocated with the item */
    size_t n_events;

    /* Holder: written only by the thread that holds the item, read by the loop after the
     * hand-back. */
    struct gw_pending *next; /* the link of whichever queue holds the item */
    /* Set by the loop before it hands the item to a worker only to have the provider's
     * deliver() tell its outcome (gw_ingest_hand_to_workers). */
    bool late;
    enum gw_outcome outcome;
    char *result; /* sync: the adapter's result (owned), from apply() or read() */
    char error[256];
};

struct gw_ingest;

/* Starts cfg->ingest.writers writer threads. `base` is the loop pending items return to. */
struct gw_ingest *gw_ingest_start(const struct gw_config *cfg, struct event_base *base,
                                  struct gw_db_pool *pool);
/* Stops the writers after they finish what they hold; items still queued are handed back
 * as UNAVAILABLE. Must be called on the loop thread, before the loop stops. Accepts NULL. */
void gw_ingest_stop(struct gw_ingest *in);

/* Queues a pending item for storage (loop thread). Returns false when the queue is full
 * (the caller answers UNAVAILABLE at once). */
bool gw_ingest_submit(struct gw_ingest *in, struct gw_pending *p);

/* Queues an audit_log row (rejected request, admin action); written by a writer with its
 * next batch. Never blocks; dropped (and counted) when the queue is full. False when the row
 * was only counted into its window's summary: SOURCE is past limits.audit_each rejections of
 * this kind at ENDPOINT in the window (or all sources together past 20 times that). */
bool gw_ingest_audit(struct gw_ingest *in, const char *kind, const char *endpoint,
                     const char *reason, const char *source_address, const char *request_id);

/* Hands a pending item back to the loop thread (any thread). Never fails. */
void gw_ingest_complete(struct gw_ingest *in, struct gw_pending *p);

/* Synchronous events: the writer passes the item to the workers through this hook, set by
 * the worker pool, which must take it (it may not fail); when NULL the item is handed back
 * at once and answered as stored (ACCEPTED: the workers apply it later). */
void gw_ingest_set_sync_handler(struct gw_ingest *in,
                                void (*handler)(void *ud, struct gw_pending *p), void *ud);
/* Hands P (with p->late set: its outcome is to be told through the provider's deliver) to the
 * workers from the loop thread, through the same hook. False when no worker pool is
 * installed (none configured, or stopping): the loop still holds P. */
bool gw_ingest_hand_to_workers(struct gw_ingest *in, struct gw_pending *p);

/* The largest body the database takes in one stored row (its max_allowed_packet less room
 * for the rest of the row), learnt by the writers from their first connection; 0 until then.
 * Any thread. */
uint64_t gw_ingest_body_cap(struct gw_ingest *in);
/* Wakes the workers after each commit (set by the worker pool). */
void gw_ingest_set_commit_hook(struct gw_ingest *in, void (*hook)(void *ud), void *ud);

void gw_pending_free(struct gw_pending *p);

#endif
