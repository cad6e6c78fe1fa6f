/* guard.c — bounding and repairing the raw message before GMime reads it (see guard.h). Only
 * line ends and the first blank line are looked at here; MIME itself is GMime's. */
#include "adapters/mail/guard.h"

#include <string.h>

#include <glib.h>

#define CR_PROBE (64u * 1024u)

/* End of the line starting at i (the index of its '\n', or n). */
static size_t line_end(const unsigned char *p, size_t n, size_t i)
{
    const unsigned char *nl = memchr(p + i, '\n', n - i);
    return nl != NULL ? (size_t)(nl - p) : n;
}

static bool blank_line(const unsigned char *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return false;
    return true;
}

/* "Name:" or "Name :" at the start of a line: printable ASCII without ':' then a colon. */
static bool field_line(const unsigned char *p, size_t from, size_t to)
{
    size_t i = from;
    while (i < to && i - from < 80 && p[i] > 32 && p[i] < 127 && p[i] != ':')
        i++;
    if (i == from)
        return false;
    while (i < to && (p[i] == ' ' || p[i] == '\t'))
        i++;
    return i < to && p[i] == ':';
}

/* Drops the header fields that do not end within max bytes (the block ends at the first blank
 * line); returns the new length. */
static size_t cut_headers(unsigned char *p, size_t n, size_t max, struct gw_mail_buf *notes)
{
    size_t body = n; /* where the blank line ending the block starts */
    for (size_t i = 0; i < n;) {
        size_t e = line_end(p, n, i);
        if (e == i || (e == i + 1 && p[i] == '\r')) {
            body = i;
            break;
        }
        i = e < n ? e + 1 : n;
    }
    if (body <= max)
        return n;
    /* A field starts on a line that does not begin with white space and ends where the next
     * one starts: keep the fields before the last start within max. */
    size_t keep = 0;
    for (size_t j = 0; j < body;) {
        size_t e = line_end(p, body, j);
        if (p[j] != ' ' && p[j] != '\t') {
            if (j > max)
                break;
            keep = j;
        }
        j = e < body ? e + 1 : body;
    }
    memmove(p + keep, p + body, n - body);
    gw_mail_note(notes, "header fields past the first %zu bytes were dropped", max);
    return keep + (n - body);
}

unsigned char *gw_mail_guard(const unsigned char *raw, size_t len, const struct gw_mail_limits *lim,
                             size_t *out_len, struct gw_mail_buf *notes)
{
    size_t n = len;
    if (n > lim->max_message_bytes) {
        n = lim->max_message_bytes;
        gw_mail_note(notes, "the message was cut at %zu bytes", n);
    }
    size_t start = 0;
    while (start < n) {
        size_t e = line_end(raw, n, start);
        if (!blank_line(raw, start, e) || e == n)
            break;
        start = e + 1;
    }
    n -= start;
    unsigned char *p = g_try_malloc(n > 0 ? n : 1);
    if (p == NULL)
        return NULL;
    memcpy(p, raw + start, n);

    size_t probe = n < CR_PROBE ? n : CR_PROBE;
    if (probe > 0 && memchr(p, '\n', probe) == NULL && memchr(p, '\r', probe) != NULL)
        for (size_t i = 0; i < n; i++)
            if (p[i] == '\r' && (i + 1 == n || p[i + 1] != '\n'))
                p[i] = '\n';

    n = cut_headers(p, n, lim->max_header_bytes, notes);

    size_t boundary_budget = lim->max_parts > GW_MAIL_GUARD_BOUNDARY_LINES_MIN / 50
                                 ? (lim->max_parts < 100000 ? lim->max_parts * 50 : 5000000)
                                 : GW_MAIL_GUARD_BOUNDARY_LINES_MIN;
    size_t boundaries = 0, fields = 0;
    /* Header fields count only where GMime may read a header block: at the start, after a
     * line that may be a boundary, and after a header block (it may announce a message/rfc822
     * whose headers follow). A body's text after its first blank line is not counted. */
    bool header_block = true, had_fields = false;
    for (size_t i = 0; i < n;) {
        size_t e = line_end(p, n, i);
        if (e - i >= 2 && p[i] == '-' && p[i + 1] == '-') {
            boundaries++;
            header_block = true;
            had_fields = false;
        } else if (e == i || (e == i + 1 && p[i] == '\r')) {
            header_block = header_block && had_fields;
            had_fields = false;
        } else if (header_block && field_line(p, i, e)) {
            fields++;
            had_fields = true;
        }
        if (boundaries > boundary_budget || fields > GW_MAIL_GUARD_FIELD_LINES) {
            gw_mail_note(notes, "the message was cut at byte %zu: more than %zu %s", i,
                         boundaries > boundary_budget ? boundary_budget
                                                      : (size_t)GW_MAIL_GUARD_FIELD_LINES,
                         boundaries > boundary_budget ? "lines that could start MIME parts"
                                                      : "lines that could be header fields");
            n = i;
            break;
        }
        i = e < n ? e + 1 : n;
    }
    *out_len = n;
    return p;
}
