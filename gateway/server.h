/* server.h — `ctgw serve`: the event loop, the public and admin listeners, their routes,
 * readiness, and an orderly stop on SIGTERM/SIGINT. */
#ifndef CTGW_SERVER_H
#define CTGW_SERVER_H

#include "config/config.h"

/* Runs until SIGTERM or SIGINT. Returns the process exit code: 0 after an orderly stop,
 * 1 when the server could not start. */
int gw_serve(const struct gw_config *cfg);

#endif
