/* answer.c — building and freeing the answers adapters compose. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "adapters/provider.h"

void gw_answer_set(struct gw_answer *a, int status, const char *fmt, ...)
{
    free(a->body);
    a->body = NULL;
    a->status = status;
    if (fmt == NULL)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    a->body = malloc((size_t)n + 1);
    if (a->body == NULL)
        return;
    va_start(ap, fmt);
    vsnprintf(a->body, (size_t)n + 1, fmt, ap);
    va_end(ap);
}

void gw_answer_free(struct gw_answer *a)
{
    if (a == NULL)
        return;
    free(a->body);
    a->body = NULL;
}

void gw_answer_stored_200(enum gw_outcome outcome, const struct gw_stored *stored,
                          struct gw_answer *a)
{
    (void)outcome;
    gw_answer_set(a, 200, "{\"id\":\"%llu\"}", (unsigned long long)stored->event_id);
}
