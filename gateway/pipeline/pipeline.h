/* pipeline.h — the webhook pipeline as one app for `ctgw serve` (gateway/http/server.h): the
 * database pool, the ingest writers, the workers and the inbound route, started and stopped
 * in the order their hand-overs need. */
#ifndef CTGW_PIPELINE_H
#define CTGW_PIPELINE_H

#include "gateway/http/server.h"

extern const struct gw_serve_app gw_pipeline_app;

#endif
