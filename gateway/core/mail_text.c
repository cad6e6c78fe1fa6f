/* mail_text.c — file names, content types, titles and Message-IDs made safe to store. */
#include "gateway/core/mail_text.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include "gateway/base/text.h"

#define EXTENSION_KEEP 32 /* bytes of ".ext" a cut file name keeps */
#define TYPE_PART_MAX  127
#define REPLACEMENT    "\xEF\xBF\xBD" /* U+FFFD */

static bool is_control(uint32_t cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F);
}

/* Characters that change how the rest of a line is shown without showing themselves. */
static bool is_invisible(uint32_t cp)
{
    return (cp >= 0x200B && cp <= 0x200F) || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061C || cp == 0xFEFF;
}

size_t gw_mail_utf8_prefix(const char *s, size_t len, size_t max)
{
    if (s == NULL || len <= max)
        return s == NULL ? 0 : len;
    size_t n = max;
    while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    return n;
}

/* ---- file names ----------------------------------------------------------------------- */

/* Appends the cleaned S[0..N) to BUF (USED bytes so far) while there is room for one more
 * character below CAP; returns the new length. Never longer than the input: a character is
 * kept as it is, dropped, or one '_' replaces one or more bytes. */
static size_t clean_name(const unsigned char *s, size_t n, char *buf, size_t used, size_t cap)
{
    size_t i = 0;
    while (i < n && used + 4 < cap) {
        uint32_t cp = 0;
        size_t len = gw_text_utf8_next(s + i, n - i, &cp);
        if (len == 0 || is_control(cp) || (cp < 0x80 && strchr(":*?\"<>|", (int)cp) != NULL)) {
            buf[used++] = '_';
            i += len == 0 ? 1 : len;
            continue;
        }
        if (!is_invisible(cp)) {
            memcpy(buf + used, s + i, len);
            used += len;
        }
        i += len;
    }
    return used;
}

char *gw_mail_filename_sanitise(const char *in, char out[GW_MAIL_FILENAME_SIZE])
{
    /* The name is cleaned into BUF first, then trimmed and cut. A very long name is cleaned
     * only so far, but its extension (the bytes after a dot among its last 32) always: it
     * is what says what the file is. */
    char buf[4 * GW_MAIL_FILENAME_SIZE];
    const unsigned char *s = (const unsigned char *)(in != NULL ? in : "");
    size_t n = strlen((const char *)s);
    for (size_t i = n; i > 0; i--)
        if (s[i - 1] == '/' || s[i - 1] == '\\') {
            s += i;
            n -= i;
            break;
        }
    size_t ext = n;
    for (size_t k = n; k > 1 && n - k < EXTENSION_KEEP; k--)
        if (s[k - 1] == '.') {
            ext = k - 1;
            break;
        }
    size_t used = clean_name(s, ext, buf, 0, sizeof(buf) - 2 * EXTENSION_KEEP);
    used = clean_name(s + ext, n - ext, buf, used, sizeof(buf));
    size_t start = 0;
    while (start < used && (buf[start] == '.' || buf[start] == ' '))
        start++;
    while (used > start && (buf[used - 1] == '.' || buf[used - 1] == ' '))
        used--;
    const char *name = buf + start;
    size_t name_len = used - start;
    if (name_len == 0) {
        memcpy(out, "attachment", sizeof("attachment"));
        return out;
    }
    if (name_len <= GW_MAIL_FILENAME_MAX) {
        memcpy(out, name, name_len);
        out[name_len] = '\0';
        return out;
    }
    /* Too long: the stem is cut, and a short extension after the last dot is kept. */
    const char *dot = NULL;
    for (size_t k = name_len; k > 1 && name_len - k < EXTENSION_KEEP; k--)
        if (name[k - 1] == '.') {
            dot = name + k - 1;
            break;
        }
    size_t ext_len = dot != NULL ? (size_t)(name + name_len - dot) : 0;
    size_t stem = gw_mail_utf8_prefix(name, name_len - ext_len, GW_MAIL_FILENAME_MAX - ext_len);
    while (stem > 0 && (name[stem - 1] == ' ' || name[stem - 1] == '.'))
        stem--;
    memcpy(out, name, stem);
    memcpy(out + stem, dot != NULL ? dot : "", ext_len);
    out[stem + ext_len] = '\0';
    if (out[0] == '\0' || out[0] == '.')
        memcpy(out, "attachment", sizeof("attachment")); /* all extension: nothing to name */
    return out;
}

/* ---- content types -------------------------------------------------------------------- */

/* RFC 2045 token characters: visible ASCII but tspecials. */
static bool token_char(char c)
{
    return c > 0x20 && c < 0x7F && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

static bool space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

char *gw_mail_content_type_sanitise(const char *in, char out[GW_MAIL_CONTENT_TYPE_SIZE])
{
    static const char fallback[] = "application/octet-stream";
    const char *s = in != NULL ? in : "";
    size_t n = 0, type = 0, sub = 0;
    while (space(*s))
        s++;
    for (; token_char(s[type]) && type <= TYPE_PART_MAX; type++)
        ;
    if (type == 0 || type > TYPE_PART_MAX || s[type] != '/')
        goto bad;
    const char *r = s + type + 1;
    for (; token_char(r[sub]) && sub <= TYPE_PART_MAX; sub++)
        ;
    if (sub == 0 || sub > TYPE_PART_MAX)
        goto bad;
    const char *end = r + sub;
    while (space(*end))
        end++;
    if (*end != '\0' && *end != ';')
        goto bad;
    for (size_t i = 0; i < type + 1 + sub; i++) {
        char c = s[i];
        out[n++] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return out;
bad:
    memcpy(out, fallback, sizeof(fallback));
    return out;
}

/* ---- titles --------------------------------------------------------------------------- */

size_t gw_mail_clean_line(const char *in, size_t max_chars, char *out, size_t out_size)
{
    const unsigned char *s = (const unsigned char *)(in != NULL ? in : "");
    size_t n = strlen((const char *)s);
    size_t used = 0, chars = 0;
    bool pending_space = false;
    if (out == NULL || out_size == 0)
        return 0;
    for (size_t i = 0; i < n && chars < max_chars;) {
        uint32_t cp = 0;
        size_t len = gw_text_utf8_next(s + i, n - i, &cp);
        const char *bytes = (const char *)s + i;
        size_t bytes_len = len;
        i += len == 0 ? 1 : len;
        if (len == 0) {
            bytes = REPLACEMENT;
            bytes_len = 3;
        } else if (cp == ' ' || is_control(cp)) {
            pending_space = used > 0;
            continue;
        } else if (is_invisible(cp)) {
            continue;
        }
        size_t need = bytes_len + (pending_space ? 1 : 0);
        if (used + need >= out_size || (pending_space && chars + 2 > max_chars))
            break;
        if (pending_space) {
            out[used++] = ' ';
            chars++;
        }
        pending_space = false;
        memcpy(out + used, bytes, bytes_len);
        used += bytes_len;
        chars++;
    }
    out[used] = '\0';
    return used;
}

char *gw_mail_title(const char *subject, char out[GW_MAIL_TITLE_SIZE])
{
    if (gw_mail_clean_line(subject, GW_MAIL_TITLE_CHARS, out, GW_MAIL_TITLE_SIZE) == 0)
        memcpy(out, "(no subject)", sizeof("(no subject)"));
    return out;
}

/* ---- Message-IDs ---------------------------------------------------------------------- */

int gw_mail_message_id_normalise(const char *in, char out[GW_MAIL_MESSAGE_ID_SIZE])
{
    out[0] = '\0';
    if (in == NULL)
        return -1;
    const char *s = in;
    size_t n = strnlen(in, 4 * GW_MAIL_MESSAGE_ID_SIZE);
    while (n > 0 && space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && space(s[n - 1]))
        n--;
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        s++;
        n -= 2;
    }
    if (n == 0 || n + 2 > GW_MAIL_MESSAGE_ID_MAX)
        return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7F || s[i] == '<' ||
            s[i] == '>')
            return -1;
    out[0] = '<';
    memcpy(out + 1, s, n);
    out[n + 1] = '>';
    out[n + 2] = '\0';
    return 0;
}
