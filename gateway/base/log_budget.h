/* log_budget.h — a bound on how many lines one kind of warning may write a second, so that a
 * flood of unauthenticated requests (bad signatures, malformed heads) cannot turn into a
 * flood of log lines: past the bound the lines are counted, and the count is told in one line
 * when the next second's first line comes. Exact counts stay in metrics and audit_log. One
 * owner: the thread that declares the budget (the event loop for every budget today). */
#ifndef CTGW_LOG_BUDGET_H
#define CTGW_LOG_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "gateway/base/log.h"

struct gw_log_budget {
    const char *what;    /* what the lines tell, for the count: "rejected requests" */
    unsigned per_second; /* lines a second; 0 takes the default (20) */
    uint64_t second;     /* the second the count is of (monotonic) */
    unsigned used;       /* lines written in it */
    uint64_t held_back;  /* lines not written since the last count was told */
};

/* Whether one more line may be written at NOW_MS (monotonic). The first line of a new second
 * is preceded by a LEVEL line telling how many were held back before, when any were. */
bool gw_log_budget_take(struct gw_log_budget *b, enum gw_log_level level, uint64_t now_ms);

/* Tells the count held back, if any (when its owner stops: no later line would). */
void gw_log_budget_flush(struct gw_log_budget *b, enum gw_log_level level);

#endif
