/* provider.h — the descriptor of one webhook provider, and the one table that lists them.
 *
 * Each provider defines a `const struct gw_provider` at the bottom of its own file in
 * adapters/, and adapters/providers.c lists it once. Hooks a provider does not need are NULL;
 * the contract of each hook is written here, where it is declared.
 *
 * The path of a request (gateway/pipeline/ does the common part once for every provider), in
 * the order of the descriptor's hooks:
 *   method, content type and size checks  → 405 / 415 / 413
 *   precheck (a documented unsigned probe) → its answer, nothing stored
 *   verifier (over the raw bytes)         → 401 {"error":"invalid_signature"}, audit_log row
 *   envelope                              → events to store, or an answer without storing
 *   group-commit write                    → answer(ACCEPTED | DUPLICATE | IGNORED), or the
 *                                           provider's `unavailable` answer when not stored
 *   worker: fetch, then apply in one transaction with marking the event done; deliver the
 *   result when no request waits for it
 * and for GW_PROVIDER_SYNC providers: apply right after the commit, then answer(APPLIED) with
 * the result, or answer(TIMEOUT) when the deadline passes first; what read() can answer from
 * reads alone is answered in the writer's transaction instead, without a worker. */
#ifndef CTGW_PROVIDER_H
#define CTGW_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config/config.h"
#include "config/config_keys.h"
#include "gateway/core/jobs.h"
#include "verifiers/verifier.h"

struct gw_endpoint_config;

/* An HTTP answer an adapter composes. `body` is owned (malloc) and freed by the gateway. */
struct gw_answer {
    int status;
    char *body;               /* NULL: empty body */
    const char *content_type; /* static string; NULL: application/json when body is set */
    unsigned retry_after_s;   /* > 0 adds Retry-After */
    /* An envelope that refuses a verified request for a reason operators should see (a
     * request meant for another app, say) names it here: the gateway logs it and writes an
     * audit_log row (kind "refused"). A static string; NULL for ordinary input errors. */
    const char *audit_reason;
};

/* Sets status and a body built from a printf format (NULL fmt: empty body). */
void gw_answer_set(struct gw_answer *a, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void gw_answer_free(struct gw_answer *a);

/* A request as the adapter sees it, after the gateway's checks and the verifier. Valid for
 * the duration of the hook call only. */
struct gw_inbound {
    const struct gw_endpoint_config *endpoint;
    const struct gw_headers *headers;
    const unsigned char *body; /* raw bytes, exactly as received */
    size_t body_len;
    const char *media_type; /* lowercased, without parameters: "application/json" */
    const char *request_id;
    time_t now;
};

#define GW_DEDUPE_KEY_MAX 255

/* One event to store. The gateway stores the request's raw body unless `body` is set (an
 * adapter that splits one delivery into several events points it at its own memory, which
 * must outlive the envelope call until the gateway copies it: it copies before returning). */
struct gw_envelope {
    char dedupe_key[GW_DEDUPE_KEY_MAX + 1]; /* printable ASCII, unique per endpoint */
    /* The provider's own account id, resolved to a company through `integrations`; empty for
     * providers bound to one company by the endpoint's `company` key. */
    char tenant[256];
    const unsigned char *body;
    size_t body_len;
};

/* How a request ended, for answer(). */
enum gw_outcome {
    GW_OUTCOME_ACCEPTED,    /* stored, will be applied asynchronously */
    GW_OUTCOME_DUPLICATE,   /* this dedupe key was stored before: nothing stored now */
    GW_OUTCOME_APPLIED,     /* sync providers: stored and applied within the deadline */
    GW_OUTCOME_TIMEOUT,     /* sync providers: stored, not applied within the deadline */
    GW_OUTCOME_FAILED,      /* sync providers: stored, applying failed permanently */
    GW_OUTCOME_UNAVAILABLE, /* could not be stored (database down, overloaded): answered by
                               the gateway from gw_provider.unavailable */
    GW_OUTCOME_IGNORED,     /* stored as ignored: no company for its tenant (stored->error
                               says why); never applied */
};

/* What answer() knows about the stored event. */
struct gw_stored {
    uint64_t event_id;  /* inbox row id, 0 when not stored */
    const char *result; /* the adapter's result JSON (APPLIED, or DUPLICATE of an applied
                           event), or NULL */
    const char *error;  /* FAILED, IGNORED: the reason */
};

/* The answer of a provider that is done with a delivery once it is stored, whatever the
 * outcome (a repeat, no company): 200 {"id": "<event id>"}. Relays and HighLevel use it. */
void gw_answer_stored_200(enum gw_outcome outcome, const struct gw_stored *stored,
                          struct gw_answer *a);

enum gw_apply_rc {
    GW_APPLY_DONE,    /* applied: the event is marked done with the result */
    GW_APPLY_IGNORED, /* nothing to do (e.g. an event type we do not handle) */
    GW_APPLY_RETRY,   /* transient failure: roll back, try again later with backoff */
    GW_APPLY_FAILED,  /* permanent failure (bad data, unknown ref): marked failed, no retry */
    GW_APPLY_DEFER,   /* not now, and not a failure (a rate limit): pending again after
                         defer_ms, the attempt not counted */
};

/* A stored event handed to fetch(), before the worker opens the apply transaction. */
struct gw_fetch {
    struct gw_db *db; /* no transaction open: fetch may run its own short ones */
    const struct gw_config *cfg;
    const struct gw_endpoint_config *endpoint;
    uint64_t company_id; /* 0 only for a GW_PROVIDER_OWN_ROUTING provider's unbound event */
    uint64_t webhook_event_id;
    const unsigned char *body;
    size_t body_len;
    unsigned attempt;
    char *fetched;     /* fetch sets a malloc'd text handed to apply as gw_apply.fetched */
    uint64_t defer_ms; /* DEFER: how long to wait */
    char error[512];   /* why, for RETRY, FAILED and DEFER */
};

/* A stored event handed to apply(), inside the worker's open transaction. */
struct gw_apply {
    /* db, company_id, source, webhook_event_id. company_id is 0 only for a
     * GW_PROVIDER_OWN_ROUTING provider's event that no company was bound to: apply then sets
     * it to the company it finds and records that on the event (gw_inbox_set_company) before
     * its first write. */
    struct gw_core_ctx core;
    const struct gw_config *cfg; /* the whole config (its `mail:` section, say) */
    const struct gw_endpoint_config *endpoint;
    /* The request headers stored with the event (the provider's stored_headers), a JSON
     * object text, or NULL. */
    const char *headers;
    const char *dedupe_key;
    const unsigned char *body;
    size_t body_len;
    unsigned attempt;    /* 1 for the first try */
    int64_t received_at; /* when the event was stored, Unix seconds (UTC) */
    const char *fetched; /* what the provider's fetch() got, or NULL */
    char *result;        /* apply may set a malloc'd JSON object text: stored and answered */
    char error[512];     /* why, for RETRY and FAILED (stored as last_error, logged) */
};

/* A new event of a GW_PROVIDER_SYNC provider handed to read(), on an ingest writer, inside
 * the transaction that is about to store it. */
struct gw_read {
    const struct gw_endpoint_config *endpoint;
    uint64_t company_id; /* its tenant's company: never 0 */
    const unsigned char *body;
    size_t body_len;
    int64_t received_at; /* Unix seconds (UTC) */
    char *result;        /* read sets a malloc'd JSON object text, or leaves it NULL */
};

/* What precheck() decided. */
enum gw_precheck_rc {
    GW_PRECHECK_VERIFY,   /* not the provider's unsigned probe: go on with verification */
    GW_PRECHECK_ANSWERED, /* the probe, answered in `answer`: nothing is verified or stored */
};

/* What envelope() decided. */
enum gw_envelope_rc {
    GW_ENVELOPE_STORE,       /* out[0..*n) are the events to store, 1 <= *n <= max */
    GW_ENVELOPE_ANSWER,      /* answer at once with `answer` (a handshake, a validation error),
                                storing nothing */
    GW_ENVELOPE_UNAVAILABLE, /* cannot look at it now (out of memory): the gateway answers
                                from `unavailable`, so the provider retries */
};

/* gw_provider.flags */
enum {
    /* The request waits for its event to be applied: it is applied right after the commit,
     * and answer(APPLIED) carries the result when that happens within the deadline
     * (sync_deadline_ms, or the endpoint's reply_deadline); answer(TIMEOUT) otherwise. */
    GW_PROVIDER_SYNC = 1u << 0,
    /* With SYNC: the deadline counts from the request's arrival, not from the commit, so the
     * request may be answered answer(TIMEOUT) before its event is stored; deliver() then
     * tells the outcome later, whatever it is (applied, failed, not stored at all). Only for
     * a provider whose protocol has such a second channel (Slack's response_url) and which
     * gives up on slow answers (Slack shows an error after 3 s); the others keep the rule
     * that a request is acknowledged only once stored. */
    GW_PROVIDER_EARLY_ANSWER = 1u << 1,
    /* The company of an event is found by apply(), not from the envelope's tenant: e-mail,
     * whose recipients, thread ids and plus addresses all take part. An event whose envelope
     * names no tenant, of an endpoint without `company`, is stored pending with no company
     * (not ignored), and apply() gets it with core.company_id 0. */
    GW_PROVIDER_OWN_ROUTING = 1u << 2,
    /* The endpoint's max_body defaults to mail.max_message, not ingest.max_body. */
    GW_PROVIDER_MAIL_BODY = 1u << 3,
};

/* The most events one request may carry when a provider does not say (max_events 0), and the
 * most any provider may ask for. */
#define GW_PROVIDER_MAX_EVENTS       64
#define GW_PROVIDER_MAX_EVENTS_LIMIT 4096

/* The answer the gateway itself gives when a verified request could not be stored (database
 * down, queue full): the status that makes this provider retry, or for a provider that
 * retries nothing, the words that tell its user. Zero fields take the defaults: 503,
 * Retry-After 5 (sent with 429 and 5xx only), body {"error":"unavailable"}; "" is an empty
 * body. */
struct gw_unavailable_answer {
    int status;             /* 0: 503. GoHighLevel retries only a 429 */
    unsigned retry_after_s; /* 0: 5 */
    const char *body;       /* NULL: {"error":"unavailable"} */
};

struct gw_provider {
    /* ---- what it is */

    /* The value of `provider:` in an endpoint, e.g. "slack". Unique. */
    const char *name;
    /* One line for operators (check-config, README). */
    const char *summary;
    /* Endpoint keys this provider accepts beyond id, provider and max_body whose values go
     * into struct gw_endpoint_config (what its verifier reads, `company`), terminated by an
     * entry whose name is NULL. Offsets point into struct gw_endpoint_config. May be NULL. */
    const struct gw_cfg_key *endpoint_keys;
    /* GW_PROVIDER_* */
    unsigned flags;
    /* The provider's own endpoint keys, terminated likewise; offsets point into its config
     * struct of config_size bytes, which the loader allocates zeroed for each endpoint at
     * endpoint->provider_config and frees (with what these keys stored) with the config.
     * NULL and 0 for a provider without one. */
    const struct gw_cfg_key *config_keys;
    size_t config_size;
    /* setup (may be NULL): called by the loader once per endpoint whose keys all loaded. MAY
     * check what spans keys and report it with gw_cfg_setup_error (the config then fails to
     * load: FILE:LINE: message); MAY fill derived fields of endpoint->provider_config. */
    void (*setup)(struct gw_endpoint_config *endpoint, struct gw_cfg_setup *s);
    /* Accepted media types (lowercase), NULL-terminated; anything else is 415. */
    const char *const *media_types;
    /* Source recorded on jobs and job_events ("api", "form", ...). */
    const char *source;
    /* Request headers kept with the stored event (lowercase names), NULL-terminated; never
     * credentials. */
    const char *const *stored_headers;
    /* The most events one request may carry (envelope's `max`); 0: GW_PROVIDER_MAX_EVENTS.
     * Xero batches events of several tenants into one delivery, of undocumented size. */
    unsigned max_events;
    /* GW_PROVIDER_SYNC: the deadline for the applied answer, in milliseconds, unless the
     * endpoint sets its own reply_deadline. */
    unsigned sync_deadline_ms;
    /* The body of the 401 for a request that failed verification; NULL: the default
     * {"error":"invalid_signature"}. Xero requires an empty one (""). */
    const char *rejected_body;
    /* The answer when a verified request could not be stored. */
    struct gw_unavailable_answer unavailable;

    /* ---- hooks, in the order the gateway calls them */

    /* precheck (may be NULL): called BEFORE verification, only for a provider's documented
     * unsigned probe (Slack's ssl_check=1, which the official SDKs answer without a
     * signature). Returns GW_PRECHECK_ANSWERED with `answer` filled when IN is exactly such
     * a probe, GW_PRECHECK_VERIFY otherwise. MUST NOT block; MUST NOT trust IN. */
    enum gw_precheck_rc (*precheck)(const struct gw_inbound *in, struct gw_answer *answer);

    /* The authentication scheme: every provider names one, served or not (`ctgw verify`
     * checks requests for providers not served yet). */
    const struct gw_verifier *verifier;
    /* verifier_for (may be NULL): for a provider whose endpoints choose their scheme by the
     * keys they set (email-mime: username and password, or token), the scheme of EP; never
     * NULL. Everything that verifies asks gw_endpoint_verifier, which falls back to
     * `verifier`. */
    const struct gw_verifier *(*verifier_for)(const struct gw_endpoint_config *ep);

    /* envelope: called on the verified request. Returns GW_ENVELOPE_STORE with
     * out[0..*n) filled, 1 <= *n <= max, GW_ENVELOPE_ANSWER with `answer` filled, or
     * GW_ENVELOPE_UNAVAILABLE. Anything else (no event and no answer, more than max events)
     * is a programming error: the gateway logs it and answers 500, storing nothing. MAY read
     * in->body freely (it is verified). MUST NOT block. NULL only for a provider not served
     * yet: its endpoints answer 404 (a provider is never served unauthenticated). */
    enum gw_envelope_rc (*envelope)(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer);

    /* fetch (may be NULL), on a worker: for providers whose events only point at what
     * changed (Xero), gets the resource from the provider's API before the apply
     * transaction opens, so no row lock is held across an outbound call. Returns DONE
     * (ctx->fetched set for apply, or left NULL), RETRY, FAILED or DEFER. MAY block (HTTP,
     * its own short transactions on ctx->db). Events of such a provider are applied one at a
     * time, never in a batch. */
    enum gw_apply_rc (*fetch)(struct gw_fetch *ctx);

    /* apply (may be NULL: events are then marked ignored), on a worker: applies one stored
     * event to the core tables through gateway/core/ on ctx->core.db, inside the worker's
     * transaction. MUST NOT commit or roll back. MAY block on the database. */
    enum gw_apply_rc (*apply)(struct gw_apply *ctx);

    /* apply_many (may be NULL), on a worker: applies N (>= 2) events of this provider of
     * one batch inside the worker's one transaction, each with the outcome apply() would
     * give it — ctx[i] gets its result or error, and rc[i] its rc — but free to share
     * statements between them (jobs created together: gw_job_create_many), so that locks
     * shared by the batch (a company's job counter) are held for a few statements, not a few
     * per event. It may order the events' writes otherwise than one after another only where
     * no event of the set can depend on another's: Slack creates a set's `/job new` jobs
     * after its other commands, and no command can name a job of its own set, whose number
     * only its answer tells. Same rules as apply(). */
    void (*apply_many)(struct gw_apply *const *ctx, size_t n, enum gw_apply_rc *rc);

    /* read (may be NULL), on an ingest writer, for GW_PROVIDER_SYNC providers: answers from
     * reads alone the events that change nothing (Slack's `/job show`), all of a batch at
     * once, inside the transaction that stores them and before they are stored. For each
     * event it can answer so, it sets `result`: the event is stored `done` with it in the
     * batch's one commit and answered APPLIED right after, never handed to a worker. Events
     * it leaves NULL (a write, a refusal that must be audited) are stored pending and
     * applied as usual. MUST NOT write or commit; reads tenant-scoped through gateway/core/
     * by each event's company_id. Returns false on a database error (ERR says why): the
     * batch then stores every event pending, as if read were NULL. MUST NOT block on
     * anything but the database. */
    bool (*read)(struct gw_db *db, struct gw_read *events, size_t n, char *err, size_t err_len);

    /* deliver (may be NULL), on a worker: tells an outcome no HTTP request is waiting for any
     * more — the synchronous deadline passed, or the event was applied later (a retry,
     * another instance, after a restart). Called with APPLIED and the result apply set after
     * an event was applied (DONE) and committed; with DUPLICATE and the stored result of a
     * replayed event; and, for GW_PROVIDER_EARLY_ANSWER providers whose request was answered
     * TIMEOUT, with FAILED (applying failed for good), IGNORED (stored as ignored: no
     * company) or UNAVAILABLE (not stored at all: nothing changed), RESULT NULL. Gets the
     * request's body as received. MAY block (an outbound HTTP call such as Slack's
     * response_url); MUST NOT touch the database. */
    void (*deliver)(const struct gw_endpoint_config *endpoint, const unsigned char *body,
                    size_t body_len, enum gw_outcome outcome, const char *result);

    /* answer (required with envelope), on the loop: composes the HTTP answer for a
     * request whose events were stored (ACCEPTED, DUPLICATE, IGNORED, and for SYNC
     * providers APPLIED, TIMEOUT, FAILED). A request that could not be stored is answered
     * by the gateway from `unavailable`, not here. MUST NOT block. */
    void (*answer)(enum gw_outcome outcome, const struct gw_stored *stored,
                   struct gw_answer *answer);
};

/* NULL-terminated, in a stable order. */
extern const struct gw_provider *const gw_providers[];

/* The provider called NAME, or NULL. */
const struct gw_provider *gw_provider_find(const char *name);

/* The scheme requests to EP are verified with: its provider's verifier_for(EP), or its
 * verifier. NULL when EP has no provider. */
const struct gw_verifier *gw_endpoint_verifier(const struct gw_endpoint_config *ep);

/* How many events one request of this provider may carry (its max_events, bounded). */
size_t gw_provider_max_events(const struct gw_provider *p);

/* Writes "a, b, c" (every provider name) into buf, for error messages. */
void gw_provider_names(char *buf, size_t len);

/* The table above as the config loader takes it: gw_config_load(path,
 * &gw_providers_for_config, &errs). */
extern const struct gw_config_providers gw_providers_for_config;

#endif
