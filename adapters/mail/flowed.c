/* flowed.c — format=flowed text back into paragraphs (see flowed.h). */
#include "adapters/mail/flowed.h"

#include <string.h>

bool gw_mail_unflow(struct gw_mail_buf *b, const char *s, size_t n, bool delsp)
{
    bool open = false; /* the last line written was soft: the next one continues it */
    size_t open_depth = 0;
    for (size_t i = 0; i < n && !b->cut && !b->failed;) {
        const char *nl = memchr(s + i, '\n', n - i);
        size_t end = nl != NULL ? (size_t)(nl - s) : n;
        const char *line = s + i;
        size_t len = end - i;
        i = nl != NULL ? end + 1 : n;
        if (len > 0 && line[len - 1] == '\r')
            len--;
        size_t depth = 0;
        while (depth < len && line[depth] == '>')
            depth++;
        const char *body = line + depth;
        size_t blen = len - depth;
        if (blen > 0 && body[0] == ' ') { /* space-stuffing */
            body++;
            blen--;
        }
        /* "-- " is the signature separator, never a soft break. */
        bool sig = blen == 3 && memcmp(body, "-- ", 3) == 0;
        bool soft = blen > 0 && body[blen - 1] == ' ' && !sig;
        if (open && depth != open_depth) {
            gw_mail_buf_add(b, "\n", 1);
            open = false;
        }
        if (!open && depth > 0) {
            for (size_t q = 0; q < depth; q++)
                gw_mail_buf_add(b, ">", 1);
            gw_mail_buf_add(b, " ", 1);
        }
        if (soft && delsp)
            blen--;
        gw_mail_buf_add(b, body, blen);
        open = soft;
        open_depth = depth;
        if (!soft && (nl != NULL || i < n))
            gw_mail_buf_add(b, "\n", 1);
    }
    return !b->cut && !b->failed;
}
