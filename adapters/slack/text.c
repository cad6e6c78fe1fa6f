/* text.c — escaping, command words, mentions and durations for the Slack provider. */
#include "adapters/slack/text.h"

#include <ctype.h>
#include <string.h>

/* Appends N bytes of S, never splitting a UTF-8 sequence: false when it did not all fit. */
static bool append_n(char *out, size_t cap, size_t *len, const char *s, size_t n)
{
    if (cap == 0)
        return false;
    size_t room = cap - 1 - *len;
    bool all = n <= room;
    if (!all) {
        n = room;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(out + *len, s, n);
    *len += n;
    out[*len] = '\0';
    return all;
}

bool gw_slack_append(char *out, size_t cap, size_t *len, const char *s)
{
    return append_n(out, cap, len, s, strlen(s));
}

bool gw_slack_escape_append(char *out, size_t cap, size_t *len, const char *s)
{
    while (*s) {
        size_t run = strcspn(s, "&<>");
        if (!append_n(out, cap, len, s, run))
            return false;
        s += run;
        if (*s == '\0')
            break;
        const char *ent = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : "&gt;";
        /* An entity is never cut in half: all of it or nothing. */
        if (*len + strlen(ent) > cap - 1)
            return false;
        append_n(out, cap, len, ent, strlen(ent));
        s++;
    }
    return true;
}

void gw_slack_unescape(char *s)
{
    static const struct {
        const char *ent;
        char c;
    } ents[] = {{"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}};
    /* &amp; last, as Slack says, so "&amp;lt;" stays the literal text "&lt;". */
    for (size_t e = 0; e < sizeof(ents) / sizeof(ents[0]); e++) {
        size_t el = strlen(ents[e].ent);
        char *w = s;
        for (const char *r = s; *r;) {
            if (strncmp(r, ents[e].ent, el) == 0) {
                *w++ = ents[e].c;
                r += el;
            } else {
                *w++ = *r++;
            }
        }
        *w = '\0';
    }
}

bool gw_slack_next_word(const char **s, char *word, size_t cap)
{
    const char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, " \t");
    if (n == 0 || n >= cap)
        return false;
    memcpy(word, p, n);
    word[n] = '\0';
    p += n;
    while (*p == ' ' || *p == '\t')
        p++;
    *s = p;
    return true;
}

/* Reads 1..4 digits; -1 when there are none or more. */
static long digits(const char **s)
{
    long v = 0;
    int n = 0;
    while (isdigit((unsigned char)**s)) {
        if (++n > 4)
            return -1;
        v = v * 10 + (**s - '0');
        (*s)++;
    }
    return n ? v : -1;
}

int gw_slack_parse_minutes(const char *s)
{
    if (s == NULL || *s == '\0')
        return -1;
    long total = 0;
    const char *p = s;
    long v = digits(&p);
    if (v < 0)
        return -1;
    if (*p == '.') { /* 1.5h: one decimal of an hour, hours only */
        p++;
        if (!isdigit((unsigned char)*p))
            return -1;
        long tenth = *p++ - '0';
        if (strcmp(p, "h") != 0)
            return -1;
        total = v * 60 + tenth * 6;
    } else if (*p == 'h') {
        p++;
        total = v * 60;
        if (*p != '\0') { /* 1h30m */
            long m = digits(&p);
            if (m < 0 || m > 59 || strcmp(p, "m") != 0)
                return -1;
            total += m;
        }
    } else if (strcmp(p, "m") == 0) {
        total = v;
    } else {
        return -1;
    }
    return total >= 1 && total <= 24 * 60 ? (int)total : -1;
}

bool gw_slack_parse_mention(const char *s, char *id, size_t cap)
{
    if (strncmp(s, "<@", 2) != 0)
        return false;
    const char *p = s + 2;
    size_t n = 0;
    while (isupper((unsigned char)p[n]) || isdigit((unsigned char)p[n]))
        n++;
    if (n == 0 || n >= cap)
        return false;
    const char *end = p + n;
    if (*end == '|') { /* the display name Slack adds: anything but '>' */
        end = strchr(end, '>');
        if (end == NULL)
            return false;
    }
    if (end[0] != '>' || end[1] != '\0')
        return false;
    memcpy(id, p, n);
    id[n] = '\0';
    return true;
}
