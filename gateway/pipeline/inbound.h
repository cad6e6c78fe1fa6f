/* inbound.h — POST /hooks/{endpoint}: the checks every provider shares (endpoint, method, media
 * type, size, signature), the adapter's envelope, the hand-over to the ingest writers, and the
 * answer once the event is durable (or applied, for synchronous providers). */
#ifndef CTGW_HOOKS_H
#define CTGW_HOOKS_H

#include <stdbool.h>

#include "config/config.h"
#include "gateway/http/framing.h"
#include "gateway/http/request.h"
#include "gateway/pipeline/ingest.h"

struct gw_hooks;

struct gw_hooks *gw_hooks_create(const struct gw_config *cfg, struct event_base *base,
                                 struct gw_ingest *ingest);
void gw_hooks_destroy(struct gw_hooks *h);

/* Handles r when its path is under /hooks/; false otherwise (the caller answers). The
 * request may be answered later, from the loop, after the database commit. */
bool gw_hooks_route(struct gw_hooks *h, struct gw_request *r);

/* What the gateway makes of an envelope's return: its code RC, the N events it filled of at
 * most MAX, and the status of the answer it set (0: none). A return that breaks the
 * contract of gw_provider.envelope (no event and no answer, more than MAX events, an answer
 * beside events) is GW_ENVELOPE_BROKEN: a bug in the adapter, answered 500. */
enum gw_envelope_verdict {
    GW_ENVELOPE_TO_STORE,
    GW_ENVELOPE_TO_ANSWER,
    GW_ENVELOPE_TO_RETRY, /* answered with the provider's `unavailable` */
    GW_ENVELOPE_BROKEN,
};
enum gw_envelope_verdict gw_envelope_judge(enum gw_envelope_rc rc, size_t n, size_t max,
                                           int answer_status);

/* The checks of a /hooks/ request that need no body, on its head before the body is read
 * (see gw_serve_app.admit): -1 when the path is not under /hooks/; 429 (A->retry_after_s set)
 * when its source (HEAD's peer, or the client a trusted proxy names) or its endpoint is over
 * its rate (limits:), which takes one token of each; 404 for an unknown endpoint, 405 for a
 * method other than POST (A->allow "POST"), 413 for a Content-Length over the endpoint's
 * max_body; else 0, with A->reserve the bytes the body may take (its max_body when chunked). */
int gw_hooks_admit(struct gw_hooks *h, const struct gw_framing_head *head, struct gw_admission *a);

/* A graceful stop has begun: the refusals held to be answered late go now, and no more are
 * held. */
void gw_hooks_stopping(struct gw_hooks *h);

/* Requests accepted but not answered yet (for the graceful stop). */
unsigned gw_hooks_in_flight(const struct gw_hooks *h);

#endif
