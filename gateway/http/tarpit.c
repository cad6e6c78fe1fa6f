/* tarpit.c — refusals answered late (tarpit.h): a queue of held answers, due in the order
 * they were taken (every one waits the same delay), and one timer armed for the oldest. Each
 * is allocated when held: an idle tarpit costs nothing, a full one ~1 KiB an answer. */
#include "gateway/http/tarpit.h"

#include <stdlib.h>
#include <string.h>

#include "gateway/base/clock.h"
#include "gateway/base/metrics.h"

#define BODY_MAX   256
#define HEADER_MAX 64
#define PAIRS_MAX  2

struct held {
    struct held *next;
    struct gw_request r;
    uint64_t due_ms;
    int status;
    bool has_body;
    char body[BODY_MAX];
    char headers[PAIRS_MAX * 2][HEADER_MAX];
    size_t n_headers; /* strings in headers */
};

struct gw_tarpit {
    struct event *timer;
    uint64_t delay_ms;
    size_t cap, n;
    struct held *first, *last; /* oldest first */
};

/* The oldest held answer, taken off the queue (the caller sends and frees it). */
static struct held *take_first(struct gw_tarpit *t)
{
    struct held *h = t->first;
    t->first = h->next;
    if (t->first == NULL)
        t->last = NULL;
    t->n--;
    return h;
}

static uint64_t now_ms(void)
{
    return gw_monotonic_ns() / 1000000u;
}

static void send_held(struct held *h)
{
    const char *headers[PAIRS_MAX * 2 + 1] = {NULL};
    for (size_t i = 0; i < h->n_headers; i++)
        headers[i] = h->headers[i];
    gw_request_reply_with(&h->r, h->status, h->has_body ? h->body : NULL, headers);
}

static void arm(struct gw_tarpit *t)
{
    if (t->first == NULL)
        return;
    /* 10 ms after the oldest is due: under a flood one wake-up answers many, at most a
     * hundred wake-ups a second. */
    uint64_t due = t->first->due_ms + 10, now = now_ms();
    uint64_t wait = due > now ? due - now : 0;
    struct timeval tv = {.tv_sec = (time_t)(wait / 1000),
                         .tv_usec = (suseconds_t)(wait % 1000) * 1000};
    evtimer_add(t->timer, &tv);
}

static void on_due(evutil_socket_t fd, short what, void *arg)
{
    struct gw_tarpit *t = arg;
    (void)fd;
    (void)what;
    uint64_t now = now_ms();
    while (t->first != NULL && t->first->due_ms <= now) {
        struct held *h = take_first(t);
        send_held(h);
        free(h);
    }
    arm(t);
}

struct gw_tarpit *gw_tarpit_create(struct event_base *base, uint32_t max_connections,
                                   uint64_t delay_ms)
{
    size_t cap = max_connections / 4 > 16 ? max_connections / 4 : 16;
    struct gw_tarpit *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return NULL;
    t->delay_ms = delay_ms;
    t->cap = delay_ms > 0 ? cap : 0;
    t->timer = evtimer_new(base, on_due, t);
    if (t->timer == NULL) {
        gw_tarpit_destroy(t);
        return NULL;
    }
    return t;
}

void gw_tarpit_release(struct gw_tarpit *t)
{
    if (t == NULL)
        return;
    t->cap = 0;
    while (t->first != NULL) {
        struct held *h = take_first(t);
        send_held(h);
        free(h);
    }
}

void gw_tarpit_destroy(struct gw_tarpit *t)
{
    if (t == NULL)
        return;
    gw_tarpit_release(t);
    if (t->timer != NULL)
        event_free(t->timer);
    free(t);
}

bool gw_tarpit_hold(struct gw_tarpit *t, const struct gw_request *r, int status, const char *json,
                    const char *const *headers)
{
    if (t == NULL || t->n >= t->cap || (json != NULL && strlen(json) >= BODY_MAX))
        return false;
    size_t n_headers = 0;
    while (headers != NULL && headers[n_headers] != NULL) {
        if (n_headers >= PAIRS_MAX * 2 || strlen(headers[n_headers]) >= HEADER_MAX)
            return false;
        n_headers++;
    }
    struct held *h = n_headers % 2 == 0 ? malloc(sizeof(*h)) : NULL;
    if (h == NULL)
        return false;
    h->next = NULL;
    h->r = *r;
    h->due_ms = now_ms() + t->delay_ms;
    h->status = status;
    h->has_body = json != NULL;
    if (json != NULL)
        memcpy(h->body, json, strlen(json) + 1);
    for (size_t i = 0; i < n_headers; i++)
        memcpy(h->headers[i], headers[i], strlen(headers[i]) + 1);
    h->n_headers = n_headers;
    if (t->last != NULL)
        t->last->next = h;
    else
        t->first = h;
    t->last = h;
    if (t->n++ == 0)
        arm(t);
    gw_metrics_count_refusal_delayed();
    return true;
}

size_t gw_tarpit_held(const struct gw_tarpit *t)
{
    return t != NULL ? t->n : 0;
}
