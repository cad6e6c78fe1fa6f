/* signed.h — requests signed with Standard Webhooks (webhook-id, webhook-timestamp,
 * webhook-signature), as the generic and contact-form providers expect them, and the
 * "whsec_" secrets to sign them with. */
#ifndef CTGW_TESTS_SUPPORT_SIGNED_H
#define CTGW_TESTS_SUPPORT_SIGNED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/support/http.h"

/* How to send one request. Zero-initialised: POST, application/json, a fresh webhook-id,
 * the current time, every header present and signed with `secret`. */
struct ts_signed {
    const char *secret;       /* "whsec_..." to sign with */
    const char *id;           /* webhook-id; NULL: a fresh unique one */
    int64_t timestamp;        /* webhook-timestamp; 0: now */
    const char *content_type; /* NULL: application/json; "" sends no Content-Type */
    const char *request_id;   /* X-Request-Id to send, or NULL */
    const char *user_agent;   /* User-Agent to send (any bytes, not signed), or NULL */
    const char *method;       /* NULL: POST */
    bool omit_id, omit_timestamp, omit_signature; /* leave that header out */
    const char *signature;                        /* sent instead of the computed one */
    long timeout_ms;                              /* 0: 10 s */
};

/* A fresh secret: "whsec_" + base64 of 32 random bytes (caller frees). */
char *ts_whsec_new(void);

/* A webhook-id never returned before in this process, "msg_<pid>_<n>_<random>". */
void ts_webhook_id(char *out, size_t len);

/* Sends BODY (NUL-terminated; its bytes need not be UTF-8) to URL as opts says. Returns
 * 0 when an answer came (any status), -1 on a transport error or when the request could not
 * be signed (message in out->error). Thread-safe once curl_global_init has run. */
int ts_signed_post(const char *url, const char *body, const struct ts_signed *opts,
                   struct ts_http *out);

#endif
