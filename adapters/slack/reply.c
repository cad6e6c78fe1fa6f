/* reply.c — the response_url client of the Slack provider (gateway/net/http_client, worker
 * threads). */
#include "adapters/slack/reply.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gateway/base/hash.h"
#include "gateway/net/http_client.h"

#define DEFAULT_HOST "hooks.slack.com"
#define SLOTS        1024
#define URL_MAX      1024
#define TRIES        3

bool gw_slack_reply_url_allowed(const char *url, char *const *hosts, size_t n_hosts)
{
    static const char *const slack[] = {DEFAULT_HOST};
    if (url == NULL || strlen(url) > URL_MAX)
        return false;
    return n_hosts == 0 ? gw_http_url_allowed_to(url, slack, 1)
                        : gw_http_url_allowed_to(url, (const char *const *)hosts, n_hosts);
}

/* Posts per response_url: a small table, each slot the URL's hash, when its window started,
 * and how many posts it had. A slot whose window passed is free again; when every slot is
 * busy the oldest is reused (that URL then gets a fresh count, which Slack would refuse past
 * 5 anyway — memory stays bounded). */
struct slot {
    uint64_t hash;
    time_t start;
    unsigned posts;
};
static struct slot slots[SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;

bool gw_slack_reply_take(const char *url, time_t invoked_at, time_t now)
{
    if (now - invoked_at > GW_SLACK_REPLY_WINDOW_S)
        return false;
    uint64_t h = gw_fnv1a(url);
    pthread_mutex_lock(&slots_lock);
    struct slot *found = NULL, *free_slot = NULL, *oldest = &slots[0];
    for (size_t i = 0; i < SLOTS; i++) {
        struct slot *s = &slots[i];
        bool expired = s->hash == 0 || now - s->start > GW_SLACK_REPLY_WINDOW_S;
        if (!expired && s->hash == h) {
            found = s;
            break;
        }
        if (expired && free_slot == NULL)
            free_slot = s;
        if (s->start < oldest->start)
            oldest = s;
    }
    if (found == NULL) {
        found = free_slot ? free_slot : oldest;
        *found = (struct slot){.hash = h, .start = invoked_at, .posts = 0};
    }
    bool ok = found->posts < GW_SLACK_REPLY_MAX_POSTS;
    if (ok)
        found->posts++;
    pthread_mutex_unlock(&slots_lock);
    return ok;
}

int gw_slack_reply_post(const char *url, const char *json, char *why, size_t why_len)
{
    static const long backoff_ms[TRIES - 1] = {250, 1000};
    static const char *const headers[] = {"Content-Type: application/json", NULL};
    snprintf(why, why_len, "not sent");
    for (int attempt = 0; attempt < TRIES; attempt++) {
        if (attempt > 0) {
            struct timespec ts = {backoff_ms[attempt - 1] / 1000,
                                  (backoff_ms[attempt - 1] % 1000) * 1000000L};
            nanosleep(&ts, NULL);
        }
        struct gw_http_call call = {.method = "POST",
                                    .url = url,
                                    .headers = headers,
                                    .body = json,
                                    .body_len = strlen(json),
                                    .connect_timeout_ms = 3000,
                                    .timeout_ms = 10000,
                                    .max_answer = 64 * 1024};
        struct gw_http_answer a;
        int rc = gw_http_perform(&call, &a);
        long status = a.status;
        gw_http_answer_free(&a);
        if (rc != 0 && !a.too_large) {
            snprintf(why, why_len, "%s", a.error);
            if (a.refused)
                return -1;
            continue; /* network error: try again */
        }
        if (status >= 200 && status < 300)
            return 0;
        snprintf(why, why_len, "HTTP %ld", status);
        if (status < 500)
            return -1; /* Slack refused it (expired, used up): retrying cannot help */
    }
    return -1;
}
