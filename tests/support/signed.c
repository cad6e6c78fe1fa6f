/* signed.c — Standard Webhooks signed requests and whsec_ secrets for tests. */
#include "tests/support/signed.h"

#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "verifiers/base64.h"
#include "verifiers/standard_webhooks.h"

#define KEY_BYTES 32

static void random_bytes(unsigned char *out, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = getrandom(out + got, len - got, 0);
        if (n <= 0)
            abort(); /* a test without randomness would reuse secrets and ids */
        got += (size_t)n;
    }
}

char *ts_whsec_new(void)
{
    unsigned char key[KEY_BYTES];
    char b64[GW_BASE64_ENCODED_LEN(KEY_BYTES) + 1];
    random_bytes(key, sizeof(key));
    if (gw_base64_encode(key, sizeof(key), b64, sizeof(b64), 0) == 0)
        abort();
    size_t len = strlen("whsec_") + strlen(b64) + 1;
    char *s = malloc(len);
    if (s == NULL)
        abort();
    snprintf(s, len, "whsec_%s", b64);
    return s;
}

void ts_webhook_id(char *out, size_t len)
{
    static atomic_uint counter;
    uint32_t r = 0;
    random_bytes((unsigned char *)&r, sizeof(r));
    snprintf(out, len, "msg_%ld_%u_%08" PRIx32, (long)getpid(), atomic_fetch_add(&counter, 1) + 1,
             r);
}

int ts_signed_post(const char *url, const char *body, const struct ts_signed *opts,
                   struct ts_http *out)
{
    static const struct ts_signed defaults = {0};
    const struct ts_signed *o = opts ? opts : &defaults;
    char id[128], h_id[160], h_ts[64], h_sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE + 64];
    char h_ct[160], h_rid[160], h_ua[300], sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    const char *headers[9];
    size_t n = 0;
    int64_t ts = o->timestamp ? o->timestamp : (int64_t)time(NULL);

    if (o->id != NULL)
        snprintf(id, sizeof(id), "%s", o->id);
    else
        ts_webhook_id(id, sizeof(id));
    sig[0] = '\0';
    if (o->signature == NULL && o->secret != NULL) {
        struct gw_secret s = {.data = (char *)o->secret, .len = strlen(o->secret)};
        if (gw_standard_webhooks_sign(&s, id, ts, (const unsigned char *)body, strlen(body), sig,
                                      sizeof(sig)) != 0) {
            memset(out, 0, sizeof(*out));
            snprintf(out->error, sizeof(out->error), "cannot sign with this secret or id");
            return -1;
        }
    }
    if (!o->omit_id) {
        snprintf(h_id, sizeof(h_id), "webhook-id: %s", id);
        headers[n++] = h_id;
    }
    if (!o->omit_timestamp) {
        snprintf(h_ts, sizeof(h_ts), "webhook-timestamp: %" PRId64, ts);
        headers[n++] = h_ts;
    }
    if (!o->omit_signature) {
        snprintf(h_sig, sizeof(h_sig), "webhook-signature: %s", o->signature ? o->signature : sig);
        headers[n++] = h_sig;
    }
    if (o->content_type == NULL || o->content_type[0] != '\0') {
        snprintf(h_ct, sizeof(h_ct), "Content-Type: %s",
                 o->content_type ? o->content_type : "application/json");
        headers[n++] = h_ct;
    } else {
        headers[n++] = "Content-Type:"; /* curl would add a form type otherwise */
    }
    if (o->request_id != NULL) {
        snprintf(h_rid, sizeof(h_rid), "X-Request-Id: %s", o->request_id);
        headers[n++] = h_rid;
    }
    if (o->user_agent != NULL) {
        snprintf(h_ua, sizeof(h_ua), "User-Agent: %s", o->user_agent);
        headers[n++] = h_ua;
    }
    headers[n++] = "Expect:"; /* no 100-continue round trip for bodies over 1 KiB */
    headers[n] = NULL;
    struct ts_http_opts http = {.timeout_ms = o->timeout_ms};
    return ts_http_with(o->method ? o->method : "POST", url, headers, body, &http, out);
}
