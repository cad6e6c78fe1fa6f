/* events.h — what the integration tests of asynchronous providers read of the events ctgw
 * stored: waiting until a worker settled one, a field of its result; and fixtures with
 * their "@@KEY@@" placeholders filled. */
#ifndef CTGW_TESTS_SUPPORT_EVENTS_H
#define CTGW_TESTS_SUPPORT_EVENTS_H

#include <stdarg.h>

#include "tests/support/db.h"
#include "tests/support/proc.h"

/* Waits, at most LIMIT_MS, until webhook event ID is neither pending nor processing and
 * returns its status (caller frees); fails the test with the end of SRV's log otherwise. */
char *ts_event_settled(struct ts_db *db, const struct ts_server *srv, unsigned long long id,
                       long limit_ms);

/* The field FIELD of event ID's result JSON, unquoted (caller frees; "NULL" when absent). */
char *ts_event_result(struct ts_db *db, unsigned long long id, const char *field);

/* tests/fixtures/PATH with each "@@KEY@@" replaced, for the (KEY, VALUE) pairs that follow,
 * ended by NULL (caller frees). */
char *ts_fixture_filled(const char *path, ...);
char *ts_fixture_fillv(const char *path, va_list pairs);

#endif
