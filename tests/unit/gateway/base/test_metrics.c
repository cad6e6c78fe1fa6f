/* test_metrics.c — the Prometheus text the metrics render: counters per endpoint and
 * outcome, the histograms, the backlog by status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gateway/base/metrics.h"

static void test_metrics_render(void **state)
{
    (void)state;
    static const char *const ids[2] = {"alpha", "beta"};
    assert_int_equal(gw_metrics_init(ids, 2), 0);
    gw_metrics_count_request(0, GW_M_ACCEPTED);
    gw_metrics_count_request(0, GW_M_ACCEPTED);
    gw_metrics_count_request(1, GW_M_REJECTED_SIGNATURE);
    gw_metrics_count_request(7, GW_M_ACCEPTED); /* out of range: ignored, not a crash */
    gw_metrics_observe_answer_us(700);
    gw_metrics_observe_answer_us(30000000);
    gw_metrics_observe_batch(3);
    gw_metrics_count_attempt(1);
    gw_metrics_count_attempt(0);
    int64_t counts[6] = {4, 0, 10, 1, 2, 3};
    gw_metrics_set_events_by_status(counts);
    char *text = gw_metrics_render();
    assert_non_null(text);
    assert_non_null(
        strstr(text, "ctgw_requests_total{endpoint=\"alpha\",outcome=\"accepted\"} 2\n"));
    assert_non_null(
        strstr(text, "ctgw_requests_total{endpoint=\"beta\",outcome=\"rejected_signature\"} 1\n"));
    assert_non_null(
        strstr(text, "ctgw_requests_total{endpoint=\"beta\",outcome=\"accepted\"} 0\n"));
    assert_non_null(strstr(text, "ctgw_answer_seconds_bucket{le=\"0.001\"} 1\n"));
    assert_non_null(strstr(text, "ctgw_answer_seconds_bucket{le=\"2.5\"} 1\n"));
    assert_non_null(strstr(text, "ctgw_answer_seconds_bucket{le=\"+Inf\"} 2\n"));
    assert_non_null(strstr(text, "ctgw_answer_seconds_count 2\n"));
    assert_non_null(strstr(text, "ctgw_ingest_batch_events_bucket{le=\"2\"} 0\n"));
    assert_non_null(strstr(text, "ctgw_ingest_batch_events_bucket{le=\"4\"} 1\n"));
    assert_non_null(strstr(text, "ctgw_events{status=\"pending\"} 4\n"));
    assert_non_null(strstr(text, "ctgw_events{status=\"dead\"} 3\n"));
    assert_non_null(strstr(text, "ctgw_worker_attempts_total 2\n"));
    assert_non_null(strstr(text, "ctgw_worker_failures_total 1\n"));
    /* Every line is a comment or "name{labels} value". */
    for (char *line = text; *line != '\0';) {
        char *nl = strchr(line, '\n');
        assert_non_null(nl);
        assert_true(line[0] == '#' || (line[0] >= 'a' && line[0] <= 'z'));
        line = nl + 1;
    }
    free(text);
    /* A status not counted (done, ignored: history) is left out, not shown as 0. */
    int64_t backlog_only[6] = {1, 0, -1, -1, 0, 0};
    gw_metrics_set_events_by_status(backlog_only);
    text = gw_metrics_render();
    assert_non_null(text);
    assert_non_null(strstr(text, "ctgw_events{status=\"pending\"} 1\n"));
    assert_null(strstr(text, "ctgw_events{status=\"done\"}"));
    assert_null(strstr(text, "ctgw_events{status=\"ignored\"}"));
    free(text);
    gw_metrics_finish();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
