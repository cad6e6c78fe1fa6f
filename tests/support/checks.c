/* checks.c — small helpers the integration tests share. */
#include "tests/support/checks.h"

#include <cjson/cJSON.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tests/support/http.h"

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
