/* server.h — `ctgw serve`: the event loop, the public and admin listeners, their routes,
 * readiness, and an orderly stop on SIGTERM/SIGINT. */
#ifndef CTGW_SERVER_H
#define CTGW_SERVER_H

#include <event2/event.h>
#include <stdbool.h>

#include "config/config.h"
#include "gateway/http/framing.h"
#include "gateway/http/request.h"

/* What the public listener serves besides the probes, known to the server only through these
 * hooks (ctgw's is the webhook pipeline, gateway/pipeline/pipeline.h). All run on the loop
 * thread. */
struct gw_serve_app {
    /* Before the listeners open: returns the app's state, or NULL when it cannot start. */
    void *(*start)(const struct gw_config *cfg, struct event_base *base);
    /* Answers R (now or later, from the loop) and returns true when its path is the app's;
     * false leaves it to the server (404). */
    bool (*route)(void *app, struct gw_request *r);
    /* Decides on a request head before its body is read (listener.h's admit): 0 admits, a
     * status refuses, -1 says the path is not the app's. NULL: everything is the app's. */
    int (*admit)(void *app, const struct gw_framing_head *h, struct gw_admission *a);
    /* A graceful stop has begun (the listeners no longer accept): answer what can be answered
     * now. NULL: nothing to do. */
    void (*stopping)(void *app);
    /* Requests accepted and not answered yet, for the graceful stop. */
    unsigned (*in_flight)(void *app);
    /* After the loop ended, before the listeners close: answers whatever still waits and
     * frees the state. Accepts NULL. */
    void (*stop)(void *app);
};

/* Runs until SIGTERM or SIGINT. Returns the process exit code: 0 after an orderly stop,
 * 1 when the server could not start. */
int gw_serve(const struct gw_config *cfg, const struct gw_serve_app *app);

#endif
