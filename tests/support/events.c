/* events.c — stored events as the integration tests wait for and read them; fixtures
 * filled in. */
#include "tests/support/events.h"

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/support/checks.h"
#include "tests/support/files.h"

char *ts_event_settled(struct ts_db *db, const struct ts_server *srv, unsigned long long id,
                       long limit_ms)
{
    if (!ts_db_wait_int(db, 1, limit_ms,
                        "SELECT COUNT(*) FROM webhook_events WHERE id = %llu AND status NOT IN "
                        "('pending', 'processing')",
                        id))
        fail_msg("event %llu was not applied%s", id, ts_server_log_tail(srv));
    return ts_db_showf(db, "SELECT status FROM webhook_events WHERE id = %llu", id);
}

char *ts_event_result(struct ts_db *db, unsigned long long id, const char *field)
{
    return ts_db_showf(db,
                       "SELECT JSON_UNQUOTE(JSON_EXTRACT(result, '$.%s')) FROM webhook_events "
                       "WHERE id = %llu",
                       field, id);
}

char *ts_fixture_fillv(const char *path, va_list pairs)
{
    char *text = test_fixture("%s", path);
    for (const char *key; (key = va_arg(pairs, const char *)) != NULL;) {
        const char *value = va_arg(pairs, const char *);
        char needle[64];
        snprintf(needle, sizeof needle, "@@%s@@", key);
        char *next = test_replace(text, needle, value);
        free(text);
        text = next;
    }
    return text;
}

char *ts_fixture_filled(const char *path, ...)
{
    va_list ap;
    va_start(ap, path);
    char *text = ts_fixture_fillv(path, ap);
    va_end(ap);
    return text;
}
