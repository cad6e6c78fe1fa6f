/* tarpit.h — answers held back for a while. A source that keeps sending what is refused (over
 * its rate, or bad signatures past the first few of a window) gets its refusals late: each
 * of its connections then sends one request a `limits.refusal_delay` instead of one as fast
 * as the loop can answer, so a flood that waits for answers, as most do, costs the loop
 * almost nothing. Bounded: when full, a refusal is answered at once. Held answers are sent
 * in the order they were held, by one timer of the loop. One owner: the loop thread. */
#ifndef CTGW_HTTP_TARPIT_H
#define CTGW_HTTP_TARPIT_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/http/request.h"

struct gw_tarpit;

/* Holds answers DELAY_MS each, at most a quarter of MAX_CONNECTIONS (at least 16) of them,
 * so that the other connections stay free. NULL when out of memory; a DELAY_MS of 0 makes
 * one that holds nothing. */
struct gw_tarpit *gw_tarpit_create(struct event_base *base, uint32_t max_connections,
                                   uint64_t delay_ms);
/* Sends every held answer now (at a stop), then frees it. Accepts NULL. */
void gw_tarpit_destroy(struct gw_tarpit *t);

/* Takes R's answer to send DELAY_MS from now: STATUS, the JSON body (NULL: none) and HEADERS
 * (pairs of name, value, NULL-terminated; at most two pairs), as gw_request_reply_with would.
 * False when it cannot (full, off, or the answer too long to keep): the caller answers now. */
bool gw_tarpit_hold(struct gw_tarpit *t, const struct gw_request *r, int status, const char *json,
                    const char *const *headers);

/* Sends every held answer now and holds none from now on: a stop has begun, and a flood
 * going on must not hold it up. */
void gw_tarpit_release(struct gw_tarpit *t);

/* Answers held now (for the graceful stop's count of requests in flight). */
size_t gw_tarpit_held(const struct gw_tarpit *t);

#endif
