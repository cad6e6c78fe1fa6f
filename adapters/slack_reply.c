/* slack_reply.c — the response_url client of the Slack provider (libcurl, worker threads). */
#include "adapters/slack_reply.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "gateway/hash.h"
#include "gateway/http_client.h"

#define DEFAULT_HOST "hooks.slack.com"
#define SLOTS        1024
#define URL_MAX      1024
#define TRIES        3

bool gw_slack_reply_url_allowed(const char *url, char *const *hosts, size_t n_hosts)
{
    if (url == NULL || strlen(url) > URL_MAX)
        return false;
    CURLU *u = curl_url();
    if (u == NULL)
        return false;
    char *scheme = NULL, *host = NULL, *user = NULL;
    bool ok = false;
    if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_NO_USER) {
        bool listed = false;
        if (n_hosts == 0)
            listed = strcasecmp(host, DEFAULT_HOST) == 0;
        for (size_t i = 0; i < n_hosts && !listed; i++)
            listed = strcasecmp(host, hosts[i]) == 0;
        if (listed && strcmp(scheme, "https") == 0)
            ok = true;
        else if (listed && strcmp(scheme, "http") == 0)
            ok = gw_http_host_is_loopback(host);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_url_cleanup(u);
    return ok;
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

static size_t discard(char *ptr, size_t size, size_t n, void *ud)
{
    (void)ptr;
    (void)ud;
    return size * n;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

int gw_slack_reply_post(const char *url, const char *json, char *why, size_t why_len)
{
    static const long backoff_ms[TRIES - 1] = {250, 1000};
    pthread_once(&curl_once, curl_init_once);
    snprintf(why, why_len, "not sent");
    for (int attempt = 0; attempt < TRIES; attempt++) {
        if (attempt > 0) {
            struct timespec ts = {0, backoff_ms[attempt - 1] * 1000000L};
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec = ts.tv_nsec / 1000000000L;
                ts.tv_nsec %= 1000000000L;
            }
            nanosleep(&ts, NULL);
        }
        CURL *c = curl_easy_init();
        if (c == NULL) {
            snprintf(why, why_len, "out of memory");
            return -1;
        }
        struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 10000L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
        CURLcode rc = curl_easy_perform(c);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        curl_slist_free_all(hdr);
        curl_easy_cleanup(c);
        if (rc != CURLE_OK) {
            snprintf(why, why_len, "%s", curl_easy_strerror(rc));
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
