/* envelope.c — the envelope recipient, the shape check and the dedupe key of a raw message,
 * from a bounded scan of its header block. */
#include "adapters/mail/envelope.h"

#include <stdio.h>
#include <string.h>

#include "gateway/base/hash.h"
#include "gateway/base/text.h"

#define LINE_MAX_BYTES 998  /* RFC 5322's limit of a line; a longer "field name" is none */
#define VALUE_MAX      2048 /* bytes of a (folded) Message-ID field kept */

static bool is_wsp(unsigned char c)
{
    return c == ' ' || c == '\t';
}

bool gw_mail_recipient_clean(const char *in, char out[GW_MAIL_RECIPIENT_SIZE])
{
    out[0] = '\0';
    if (in == NULL)
        return false;
    size_t n = strnlen(in, 4 * GW_MAIL_RECIPIENT_SIZE);
    const char *s = in;
    while (n > 0 && (is_wsp((unsigned char)*s) || *s == '\r' || *s == '\n')) {
        s++;
        n--;
    }
    while (n > 0 && (is_wsp((unsigned char)s[n - 1]) || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        s++;
        n -= 2;
    }
    if (n == 0 || n >= GW_MAIL_RECIPIENT_SIZE || !gw_text_email_valid(s, n))
        return false;
    for (size_t i = 0; i < n; i++)
        out[i] = s[i] >= 'A' && s[i] <= 'Z' ? (char)(s[i] - 'A' + 'a') : s[i];
    out[n] = '\0';
    return true;
}

/* The end of the line starting at P (the byte after its LF, or END). */
static const unsigned char *line_end(const unsigned char *p, const unsigned char *end)
{
    const unsigned char *lf = memchr(p, '\n', (size_t)(end - p));
    return lf != NULL ? lf + 1 : end;
}

/* A line holding only its line break. */
static bool blank_line(const unsigned char *p, const unsigned char *next)
{
    size_t n = (size_t)(next - p);
    return (n == 1 && p[0] == '\n') || (n == 2 && p[0] == '\r' && p[1] == '\n');
}

/* Where the header block starts: after leading blank lines and an mbox "From " line. */
static const unsigned char *header_start(const unsigned char *raw, size_t len)
{
    const unsigned char *p = raw, *end = raw + len;
    while (p < end) {
        const unsigned char *next = line_end(p, end);
        if (!blank_line(p, next))
            break;
        p = next;
    }
    if ((size_t)(end - p) >= 5 && memcmp(p, "From ", 5) == 0)
        p = line_end(p, end);
    return p;
}

/* The length of the field name of the line at P ("Name" of "Name:" or "Name :"), 0 when the
 * line is not a header field. */
static size_t field_name(const unsigned char *p, const unsigned char *next)
{
    size_t n = 0, max = (size_t)(next - p);
    if (max > LINE_MAX_BYTES)
        max = LINE_MAX_BYTES;
    while (n < max && p[n] > 32 && p[n] < 127 && p[n] != ':')
        n++;
    size_t name = n;
    while (n < max && is_wsp(p[n]))
        n++;
    return name > 0 && n < max && p[n] == ':' ? name : 0;
}

bool gw_mail_looks_like_message(const unsigned char *raw, size_t len)
{
    if (raw == NULL || len == 0)
        return false;
    const unsigned char *p = header_start(raw, len), *end = raw + len;
    return p < end && field_name(p, line_end(p, end)) > 0;
}

static bool name_is(const unsigned char *p, size_t n, const char *want)
{
    if (n != strlen(want))
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = p[i] >= 'A' && p[i] <= 'Z' ? (unsigned char)(p[i] - 'A' + 'a') : p[i];
        if (c != (unsigned char)want[i])
            return false;
    }
    return true;
}

/* Appends P[0..N) to the value, line breaks dropped (unfolding), within VALUE_MAX. */
static void value_add(char *value, size_t *used, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n && *used + 1 < VALUE_MAX; i++)
        if (p[i] != '\r' && p[i] != '\n')
            value[(*used)++] = (char)p[i];
    value[*used] = '\0';
}

/* The id inside the first "<...>" of VALUE, or VALUE itself when it has no brackets. */
static bool id_of(const char *value, char out[GW_MAIL_MESSAGE_ID_SIZE])
{
    const char *open = strchr(value, '<');
    if (open == NULL)
        return gw_mail_message_id_normalise(value, out) == 0;
    const char *close = strchr(open, '>');
    if (close == NULL)
        return false;
    char id[VALUE_MAX];
    size_t n = (size_t)(close - open) + 1;
    memcpy(id, open, n);
    id[n] = '\0';
    return gw_mail_message_id_normalise(id, out) == 0;
}

bool gw_mail_envelope_message_id(const unsigned char *raw, size_t len,
                                 char out[GW_MAIL_MESSAGE_ID_SIZE])
{
    out[0] = '\0';
    if (raw == NULL || len == 0)
        return false;
    if (len > GW_MAIL_ENVELOPE_SCAN_MAX)
        len = GW_MAIL_ENVELOPE_SCAN_MAX;
    const unsigned char *p = header_start(raw, len), *end = raw + len;
    char value[VALUE_MAX] = "";
    size_t used = 0;
    bool in_field = false, found = false;
    while (p < end) {
        const unsigned char *next = line_end(p, end);
        if (blank_line(p, next))
            break; /* the body starts */
        if (is_wsp(*p)) {
            if (in_field)
                value_add(value, &used, p, (size_t)(next - p));
        } else if (found) {
            break; /* the first Message-ID field is whole */
        } else {
            size_t name = field_name(p, next);
            in_field = name > 0 && name_is(p, name, "message-id");
            if (in_field) {
                const unsigned char *colon = memchr(p, ':', (size_t)(next - p));
                value_add(value, &used, colon + 1, (size_t)(next - colon - 1));
                found = true;
            }
        }
        p = next;
    }
    return found && id_of(value, out);
}

static void hex_key(const void *data, size_t len, char out[GW_DEDUPE_KEY_MAX + 1])
{
    char hex[GW_SHA256_HEX_SIZE];
    if (!gw_sha256_hex(data, len, hex))
        hex[0] = '\0';
    snprintf(out, GW_DEDUPE_KEY_MAX + 1, "sha256:%s", hex);
}

void gw_mail_dedupe_key(const unsigned char *raw, size_t len, const char *recipient,
                        char out[GW_DEDUPE_KEY_MAX + 1])
{
    char id[GW_MAIL_MESSAGE_ID_SIZE];
    char rcpt[GW_MAIL_RECIPIENT_SIZE] = "";
    /* Room for an id, a space and an address: the key is cut down to size afterwards. */
    char whole[GW_MAIL_MESSAGE_ID_SIZE + 1 + GW_MAIL_RECIPIENT_SIZE + 80];
    if (recipient != NULL && recipient[0] != '\0' && !gw_mail_recipient_clean(recipient, rcpt))
        rcpt[0] = '\0';
    if (gw_mail_envelope_message_id(raw, len, id))
        snprintf(whole, sizeof whole, "%s", id);
    else
        hex_key(raw != NULL ? (const void *)raw : "", raw != NULL ? len : 0, whole);
    if (rcpt[0] != '\0') {
        size_t used = strlen(whole);
        snprintf(whole + used, sizeof whole - used, " %s", rcpt);
    }
    bool ascii = true;
    for (const char *c = whole; *c != '\0'; c++)
        ascii = ascii && (unsigned char)*c >= 32 && (unsigned char)*c < 127;
    size_t n = strlen(whole);
    if (ascii && n <= GW_DEDUPE_KEY_MAX)
        memcpy(out, whole, n + 1);
    else
        hex_key(whole, n, out);
}
