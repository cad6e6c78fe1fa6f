/* checks.h — small helpers the integration tests share: waiting, a stopped server's log,
 * hook URLs, reading a field of a JSON answer and a Prometheus series. */
#ifndef CTGW_TESTS_SUPPORT_CHECKS_H
#define CTGW_TESTS_SUPPORT_CHECKS_H

#include <stddef.h>

#include "tests/support/proc.h"

void ts_sleep_ms(long ms);

/* Prints the last 16 KiB of the server's log to stderr and returns a note saying so, for
 * failure messages. */
const char *ts_server_log_tail(const struct ts_server *s);

/* Stops the server with SIGTERM and fails the test (with the log) unless it exits 0. */
void ts_server_stop_clean(const char *what, struct ts_server *s);

/* "http://127.0.0.1:PORT/hooks/ENDPOINT" of the server's public listener. */
void ts_hook_url(const struct ts_server *s, const char *endpoint, char *out, size_t len);

/* The string field KEY of the JSON object TEXT (caller frees), or NULL. */
char *ts_json_string(const char *text, const char *key);
/* The "id" of an answer such as {"id": "42"}, 0 when there is none. */
unsigned long long ts_answer_id(const char *body);

/* GET /metrics from the server's admin listener with its token: the exposition (caller
 * frees), or NULL when it did not answer 200. */
char *ts_server_metrics(const struct ts_server *s);

/* The value of the Prometheus series (name with labels, exactly) in TEXT, -1 if absent. */
long long ts_metric(const char *text, const char *series);

#endif
