/* text.c — the bounded UTF-8 buffer of the mail parser and the cleaning of untrusted text
 * (see text.h). */
#include "adapters/mail/text.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gw_mail_buf_init(struct gw_mail_buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void gw_mail_buf_free(struct gw_mail_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Room for `need` more bytes and the NUL; the caller has checked need against max. */
static bool reserve(struct gw_mail_buf *b, size_t need)
{
    if (b->failed)
        return false;
    if (b->p != NULL && b->cap - b->len > need)
        return true;
    size_t want = b->len + need + 1;
    size_t cap = b->cap > 0 ? b->cap : 64;
    while (cap < want)
        cap = cap > SIZE_MAX / 2 ? want : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    if (cap < want)
        cap = want;
    char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

/* Bytes of s[0..n) that form whole UTF-8 characters, at most `room`. s is valid UTF-8. */
static size_t whole_chars(const char *s, size_t room)
{
    size_t k = room;
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

bool gw_mail_buf_add(struct gw_mail_buf *b, const char *s, size_t n)
{
    if (b->cut || b->failed)
        return false;
    size_t take = n;
    if (n > b->max - b->len) {
        take = whole_chars(s, b->max - b->len);
        b->cut = true;
    }
    if (take > 0 || b->p == NULL) {
        if (!reserve(b, take))
            return false;
        memcpy(b->p + b->len, s, take);
        b->len += take;
        b->p[b->len] = '\0';
    }
    return !b->cut;
}

bool gw_mail_buf_adds(struct gw_mail_buf *b, const char *s)
{
    return gw_mail_buf_add(b, s, strlen(s));
}

bool gw_mail_buf_add_cp(struct gw_mail_buf *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp == 0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
        cp = 0xFFFD;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return gw_mail_buf_add(b, u, n);
}

char *gw_mail_buf_take(struct gw_mail_buf *b)
{
    if (b->failed) {
        gw_mail_buf_free(b);
        return NULL;
    }
    char *p = b->p;
    if (p == NULL)
        p = calloc(1, 1);
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

bool gw_mail_utf8_valid(const char *s, size_t n, size_t *multibyte)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t multi = 0;
    bool ok = true;
    for (size_t i = 0; i < n;) {
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = gw_text_utf8_next(u + i, n - i, &cp);
        if (k == 0) {
            ok = false;
            break;
        }
        multi++;
        i += k;
    }
    if (multibyte != NULL)
        *multibyte = multi;
    return ok;
}

/* Characters cleaning drops: controls other than tab and newline, DEL, C1, byte-order mark. */
static bool dropped(uint32_t cp)
{
    return (cp < 0x20 && cp != '\t' && cp != '\n') || (cp >= 0x7F && cp <= 0x9F) || cp == 0xFEFF;
}

static bool is_space_cp(uint32_t cp)
{
    return cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' || cp == 0xA0 || cp == 0x3000;
}

bool gw_mail_clean(struct gw_mail_buf *b, const char *s, size_t n, enum gw_mail_clean_mode mode)
{
    const unsigned char *u = (const unsigned char *)s;
    bool pending_space = false;
    bool any = false;
    for (size_t i = 0; i < n && !b->cut && !b->failed;) {
        uint32_t cp;
        size_t k = gw_text_utf8_next(u + i, n - i, &cp);
        if (k == 0) {
            cp = 0xFFFD;
            k = 1;
        }
        i += k;
        if (mode == GW_MAIL_CLEAN_LINE) {
            if (is_space_cp(cp)) {
                pending_space = any;
                continue;
            }
            if (dropped(cp))
                continue;
            if (pending_space)
                gw_mail_buf_add(b, " ", 1);
            pending_space = false;
            any = true;
            if (k == 1 || cp == 0xFFFD)
                gw_mail_buf_add_cp(b, cp);
            else
                gw_mail_buf_add(b, (const char *)u + i - k, k);
            continue;
        }
        if (cp == '\r') {
            if (i < n && u[i] == '\n')
                i++;
            cp = '\n';
        }
        if (dropped(cp))
            continue;
        if (k == 1 || cp == 0xFFFD)
            gw_mail_buf_add_cp(b, cp);
        else
            gw_mail_buf_add(b, (const char *)u + i - k, k);
    }
    return !b->cut && !b->failed;
}

char *gw_mail_text_clean(const char *s, size_t max, bool *was_cut)
{
    struct gw_mail_buf b;
    gw_mail_buf_init(&b, max);
    if (s != NULL)
        gw_mail_clean(&b, s, strlen(s), GW_MAIL_CLEAN_LINE);
    if (was_cut != NULL)
        *was_cut = b.cut;
    /* A cut can leave the space that stood before the next word. */
    if (b.p != NULL && b.len > 0 && b.p[b.len - 1] == ' ')
        b.p[--b.len] = '\0';
    return gw_mail_buf_take(&b);
}

uint32_t gw_mail_cp1252(unsigned char c)
{
    static const uint16_t high[32] = {
        0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
        0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
        0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
    };
    if (c >= 0x80 && c <= 0x9F)
        return high[c - 0x80];
    return c;
}

bool gw_mail_note(struct gw_mail_buf *b, const char *fmt, ...)
{
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return false;
    if (b->len > 0)
        gw_mail_buf_add(b, "; ", 2);
    /* Notes are our own ASCII text, but the arguments may not be: clean them. */
    return gw_mail_clean(b, line, strlen(line), GW_MAIL_CLEAN_LINE);
}
