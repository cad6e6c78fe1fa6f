/* baseline.c — the bench's bare server: one evhttp loop answering every request 200. */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads the whole request (evhttp does that before calling us) and answers 200 "ok". */
static void on_request(struct evhttp_request *req, void *arg)
{
    struct evbuffer *body = arg;
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "Content-Type", "application/json");
    evbuffer_add(body, "{\"ok\":true}\n", 12);
    evhttp_send_reply(req, 200, "OK", body); /* drains `body` into the connection */
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopexit(arg, NULL);
}

static int usage(void)
{
    fprintf(stderr, "usage: baseline [-a ADDRESS] -p PORT\n"
                    "  answers every HTTP request 200 until SIGTERM or SIGINT\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *address = "127.0.0.1";
    long port = -1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-a") == 0 && i + 1 < argc) {
            address = argv[++i];
        } else if (strcmp(argv[i], "-p") == 0 && i + 1 < argc) {
            char *end = NULL;
            errno = 0;
            port = strtol(argv[++i], &end, 10);
            if (errno != 0 || end == argv[i] || *end != '\0' || port < 1 || port > 65535)
                return usage();
        } else {
            return usage();
        }
    }
    if (port < 0)
        return usage();

    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = event_base_new();
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    struct evbuffer *body = evbuffer_new();
    struct event *term = base ? evsignal_new(base, SIGTERM, on_signal, base) : NULL;
    struct event *intr = base ? evsignal_new(base, SIGINT, on_signal, base) : NULL;
    if (http == NULL || body == NULL || term == NULL || intr == NULL ||
        evsignal_add(term, NULL) != 0 || evsignal_add(intr, NULL) != 0) {
        fprintf(stderr, "baseline: cannot set up libevent\n");
        return 1;
    }
    evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
    evhttp_set_gencb(http, on_request, body);
    if (evhttp_bind_socket(http, address, (ev_uint16_t)port) != 0) {
        fprintf(stderr, "baseline: cannot listen on %s:%ld: %s\n", address, port, strerror(errno));
        return 1;
    }
    fprintf(stderr, "baseline: listening on %s:%ld\n", address, port);
    event_base_dispatch(base);

    event_free(term);
    event_free(intr);
    evhttp_free(http);
    evbuffer_free(body);
    event_base_free(base);
    return 0;
}
