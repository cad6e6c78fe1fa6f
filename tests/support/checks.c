/* checks.c — small helpers the integration tests share. */
#include "tests/support/checks.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

int ts_run_group_n(const char *name, const struct CMUnitTest *tests, size_t n)
{
    const char *filter = getenv("CTGW_TEST_FILTER");
    if (filter != NULL)
        cmocka_set_test_filter(filter);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int failed = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    curl_global_cleanup();
    return failed;
}

void ts_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

const char *ts_server_log_tail(const struct ts_server *s)
{
    char *log = ts_server_log(s);
    size_t n = strlen(log);
    fprintf(stderr, "--- end of the ctgw log %s ---\n%s\n--- end ---\n", s->log,
            n > 16384 ? log + n - 16384 : log);
    free(log);
    return "(the end of the ctgw log is printed above)";
}

void ts_server_stop_clean(const char *what, struct ts_server *s)
{
    int rc = ts_server_stop(s, SIGTERM);
    if (rc != 0)
        fail_msg("%s: ctgw exited %d on SIGTERM\n--- ctgw log ---\n%s", what, rc,
                 ts_server_log_tail(s));
}

void ts_hook_url(const struct ts_server *s, const char *endpoint, char *out, size_t len)
{
    snprintf(out, len, "http://127.0.0.1:%u/hooks/%s", (unsigned)s->port, endpoint);
}

void ts_post_expect(const struct ts_server *s, const char *endpoint, const char *body,
                    const struct ts_signed *opts, long want, struct ts_http *out)
{
    char url[128];
    ts_hook_url(s, endpoint, url, sizeof(url));
    if (ts_signed_post(url, body, opts, out) != 0 || out->status != want) {
        /* Copied out so that the answer can be freed before fail_msg jumps out. */
        static char answer[2048];
        snprintf(answer, sizeof(answer), "%ld (%s) %s", out->status, out->error,
                 out->body ? out->body : "");
        ts_http_free(out);
        fail_msg("POST %s: %s; want %ld\n--- ctgw log ---\n%s", url, answer, want,
                 ts_server_log_tail(s));
    }
}

char *ts_json_string(const char *text, const char *key)
{
    cJSON *o = cJSON_Parse(text);
    const cJSON *v = o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL;
    char *out = cJSON_IsString(v) ? strdup(v->valuestring) : NULL;
    cJSON_Delete(o);
    return out;
}

unsigned long long ts_answer_id(const char *body)
{
    char *id = ts_json_string(body, "id");
    unsigned long long v = id ? strtoull(id, NULL, 10) : 0;
    free(id);
    return v;
}

long long ts_metric(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *line = text; line != NULL && *line != '\0';) {
        if (strncmp(line, series, n) == 0 && line[n] == ' ')
            return strtoll(line + n + 1, NULL, 10);
        line = strchr(line, '\n');
        if (line != NULL)
            line++;
    }
    return -1;
}

char *ts_server_metrics(const struct ts_server *s)
{
    char url[96], auth[200];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/metrics", (unsigned)s->admin_port);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", s->token);
    const char *headers[] = {auth, NULL};
    struct ts_http r;
    char *text = NULL;
    if (ts_http("GET", url, headers, NULL, &r) == 0 && r.status == 200 && r.body != NULL)
        text = strdup(r.body);
    ts_http_free(&r);
    return text;
}

char *ts_server_metrics_ok(const struct ts_server *s)
{
    char *text = ts_server_metrics(s);
    if (text == NULL)
        fail_msg("GET /metrics did not answer 200\n%s", ts_server_log_tail(s));
    return text;
}

char *ts_keep(struct ts_kept *k, char *p)
{
    if (p == NULL)
        return NULL;
    char **items = realloc(k->items, (k->n + 1) * sizeof(*items));
    if (items == NULL)
        abort();
    k->items = items;
    k->items[k->n++] = p;
    return p;
}

void ts_kept_free(struct ts_kept *k)
{
    for (size_t i = 0; i < k->n; i++)
        free(k->items[i]);
    free(k->items);
    k->items = NULL;
    k->n = 0;
}
