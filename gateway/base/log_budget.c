/* log_budget.c — at most so many lines of one kind a second (log_budget.h). */
#include "gateway/base/log_budget.h"

#define DEFAULT_PER_SECOND 20

void gw_log_budget_flush(struct gw_log_budget *b, enum gw_log_level level)
{
    if (b->held_back > 0)
        gw_log(level, NULL, "%llu more %s not logged one by one (at most %u lines a second)",
               (unsigned long long)b->held_back, b->what ? b->what : "lines",
               b->per_second ? b->per_second : DEFAULT_PER_SECOND);
    b->held_back = 0;
}

bool gw_log_budget_take(struct gw_log_budget *b, enum gw_log_level level, uint64_t now_ms)
{
    uint64_t second = now_ms / 1000;
    if (second != b->second) {
        gw_log_budget_flush(b, level);
        b->second = second;
        b->used = 0;
    }
    if (b->used >= (b->per_second ? b->per_second : DEFAULT_PER_SECOND)) {
        b->held_back++;
        return false;
    }
    b->used++;
    return true;
}
