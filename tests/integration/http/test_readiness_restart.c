/* test_readiness_restart.c — /readyz follows the database: 503 while the private MariaDB is
 * stopped, 200 again once it is back, without restarting ctgw. Stops the shared server, so
 * meson runs it alone; the teardown always starts the server again. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/support/db.h"
#include "tests/support/http.h"
#include "tests/support/proc.h"

struct fixture {
    struct ts_db db;
    struct ts_server srv;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    if (f == NULL)
        return -1;
    ts_db_create(&f->db, "ready");
    struct ts_config c = {.db_name = f->db.name};
    ts_server_prepare(&f->srv, &c);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    ts_server_cleanup(&f->srv);
    /* Whatever happened in the test, the shared server must be up for the next suites. */
    if (ts_dev("db-start") != 0)
        return -1;
    mysql_close(f->db.conn);
    f->db.conn = ts_db_connect(f->db.name);
    ts_db_drop(&f->db);
    free(f);
    return 0;
}

static long status_of(const char *url)
{
    struct ts_http r;
    long status = ts_http("GET", url, NULL, NULL, &r) == 0 ? r.status : 0;
    ts_http_free(&r);
    return status;
}

/* Polls url until it answers want; bounded by limit_s seconds. */
static bool wait_for_status(const char *url, long want, int limit_s)
{
    for (int i = 0; i < limit_s * 10; i++) {
        if (status_of(url) == want)
            return true;
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return false;
}

static void test_readyz_follows_the_database(void **state)
{
    struct fixture *f = *state;
    ts_ctgw_ok("migrate", f->srv.config, NULL);
    assert_true(ts_server_start(&f->srv));
    pid_t pid = f->srv.pid;

    char ready[96], health[96];
    snprintf(ready, sizeof(ready), "http://127.0.0.1:%u/readyz", (unsigned)f->srv.port);
    snprintf(health, sizeof(health), "http://127.0.0.1:%u/healthz", (unsigned)f->srv.port);
    assert_true(wait_for_status(ready, 200, 15));

    assert_int_equal(ts_dev("db-stop"), 0);
    assert_true(wait_for_status(ready, 503, 30));
    /* Alive is not ready: the process itself is fine. */
    assert_int_equal(status_of(health), 200);

    assert_int_equal(ts_dev("db-start"), 0);
    assert_true(wait_for_status(ready, 200, 60));
    assert_int_equal(kill(pid, 0), 0);
    assert_int_equal(f->srv.pid, pid);

    char *log = ts_server_log(&f->srv);
    assert_non_null(strstr(log, "not ready: database unreachable"));
    assert_non_null(strstr(log, "ready: database reachable and schema current"));
    free(log);
    assert_int_equal(ts_server_stop(&f->srv, SIGTERM), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_readyz_follows_the_database, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
