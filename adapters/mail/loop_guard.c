/* loop_guard.c — the markers of automated mail, read from a parsed message. */
#include "adapters/mail/loop_guard.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* The first word of VALUE (up to ';', ',' or white space), compared without case. */
static bool first_word_is(const char *value, const char *word)
{
    while (is_space(*value))
        value++;
    size_t n = strcspn(value, "; \t,");
    return n == strlen(word) && strncasecmp(value, word, n) == 0;
}

static bool blank(const char *s)
{
    while (is_space(*s))
        s++;
    return *s == '\0';
}

/* Whether the comma-separated list VALUE names WORD (any case). */
static bool list_has(const char *value, const char *word)
{
    size_t want = strlen(word);
    for (const char *p = value; *p != '\0';) {
        while (is_space(*p) || *p == ',')
            p++;
        size_t n = strcspn(p, ", \t");
        if (n == want && strncasecmp(p, word, n) == 0)
            return true;
        p += n;
    }
    return false;
}

/* The local part of ADDRESS is LOCAL (any case). */
static bool local_is(const char *address, const char *local)
{
    const char *at = strrchr(address, '@');
    size_t n = strlen(local);
    return at != NULL && (size_t)(at - address) == n && strncasecmp(address, local, n) == 0;
}

const char *gw_mail_automated(const struct gw_mail *m, const char *loop_marker)
{
    if (m == NULL)
        return NULL;
    if (loop_marker != NULL && loop_marker[0] != '\0' && m->x_canticket_loop[0] != '\0' &&
        strcmp(m->x_canticket_loop, loop_marker) == 0)
        return "own-loop";
    if (m->is_dsn)
        return "delivery-status";
    if (m->return_path_present && m->return_path_empty)
        return "null-return-path";
    if (local_is(m->from.address, "mailer-daemon") || local_is(m->from.address, "postmaster"))
        return "mailer-daemon";
    if (!blank(m->auto_submitted) && !first_word_is(m->auto_submitted, "no"))
        return "auto-submitted";
    if (first_word_is(m->precedence, "bulk") || first_word_is(m->precedence, "junk") ||
        first_word_is(m->precedence, "list"))
        return "precedence";
    if (!blank(m->x_autoreply) && !first_word_is(m->x_autoreply, "no"))
        return "x-autoreply";
    if (!blank(m->x_autorespond) && !first_word_is(m->x_autorespond, "no"))
        return "x-autorespond";
    if (list_has(m->x_auto_response_suppress, "all") ||
        list_has(m->x_auto_response_suppress, "oof") ||
        list_has(m->x_auto_response_suppress, "autoreply"))
        return "x-auto-response-suppress";
    if (!blank(m->list_id))
        return "list-id";
    return NULL;
}
