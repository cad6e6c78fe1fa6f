/* checks.h — small helpers the integration tests share: waiting, a stopped server's log,
 * hook URLs, a signed POST and its status, reading a field of a JSON answer and a Prometheus
 * series, and the strings a test hands to its teardown. */
#ifndef CTGW_TESTS_SUPPORT_CHECKS_H
#define CTGW_TESTS_SUPPORT_CHECKS_H

#include <stddef.h>

#include "tests/support/http.h"
#include "tests/support/proc.h"
#include "tests/support/signed.h"

struct CMUnitTest;

/* Runs a cmocka group as the integration tests' main() does: libcurl initialised around it,
 * and only the tests CTGW_TEST_FILTER names (wildcards allowed) when it is set. */
#define ts_run_group(tests) ts_run_group_n(#tests, (tests), sizeof(tests) / sizeof((tests)[0]))
int ts_run_group_n(const char *name, const struct CMUnitTest *tests, size_t n);

void ts_sleep_ms(long ms);

/* Prints the last 16 KiB of the server's log to stderr and returns a note saying so, for
 * failure messages. */
const char *ts_server_log_tail(const struct ts_server *s);

/* Stops the server with SIGTERM and fails the test (with the log) unless it exits 0. */
void ts_server_stop_clean(const char *what, struct ts_server *s);

/* "http://127.0.0.1:PORT/hooks/ENDPOINT" of the server's public listener. */
void ts_hook_url(const struct ts_server *s, const char *endpoint, char *out, size_t len);

/* POSTs BODY to the hook ENDPOINT of s, signed as opts says, into *out; fails the test with
 * the answer and the end of s's log (having freed the answer) unless the status is `want`. */
void ts_post_expect(const struct ts_server *s, const char *endpoint, const char *body,
                    const struct ts_signed *opts, long want, struct ts_http *out);

/* The string field KEY of the JSON object TEXT (caller frees), or NULL. */
char *ts_json_string(const char *text, const char *key);
/* The "id" of an answer such as {"id": "42"}, 0 when there is none. */
unsigned long long ts_answer_id(const char *body);

/* GET /metrics from the server's admin listener with its token: the exposition (caller
 * frees), or NULL when it did not answer 200. */
char *ts_server_metrics(const struct ts_server *s);
/* The same, failing the test with the end of the log when it did not answer 200. */
char *ts_server_metrics_ok(const struct ts_server *s);

/* The value of the Prometheus series (name with labels, exactly) in TEXT, -1 if absent. */
long long ts_metric(const char *text, const char *series);

/* Strings a test hands to its teardown to free, so that a failing check, which jumps out of
 * the test, leaks nothing. Zero-initialised: empty. */
struct ts_kept {
    char **items;
    size_t n;
};
/* Adds p (NULL is fine) and returns it. */
char *ts_keep(struct ts_kept *k, char *p);
/* Frees every string kept, and the list; leaves k empty. */
void ts_kept_free(struct ts_kept *k);

#endif
