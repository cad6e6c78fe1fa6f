/* log.c — structured logging to stderr with secret redaction. */
#include "gateway/base/log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES 8192
#define MSG_MAX_BYTES  2048
#define MAX_SECRETS    256
#define MIN_SECRET_LEN 6
#define REDACTED       "[REDACTED]"

struct secret_entry {
    char *bytes;
    size_t len;
};

static enum gw_log_level min_level = GW_LOG_INFO;
static enum gw_log_format out_format = GW_LOG_FORMAT_JSON;
static struct secret_entry secrets[MAX_SECRETS];
static size_t n_secrets;
/* One write(2) per line keeps lines whole between threads; the lock only orders them. */
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

void gw_log_configure(enum gw_log_level level, enum gw_log_format format)
{
    min_level = level;
    out_format = format;
}

void gw_log_register_secret(const void *secret, size_t len)
{
    if (secret == NULL || len < MIN_SECRET_LEN || n_secrets >= MAX_SECRETS)
        return;
    for (size_t i = 0; i < n_secrets; i++)
        if (secrets[i].len == len && memcmp(secrets[i].bytes, secret, len) == 0)
            return;
    char *copy = malloc(len);
    if (copy == NULL)
        return;
    memcpy(copy, secret, len);
    secrets[n_secrets].bytes = copy;
    secrets[n_secrets].len = len;
    n_secrets++;
}

void gw_log_forget_secrets(void)
{
    for (size_t i = 0; i < n_secrets; i++) {
        explicit_bzero(secrets[i].bytes, secrets[i].len);
        free(secrets[i].bytes);
    }
    n_secrets = 0;
}

/* Replaces every registered secret in s[0..len) with REDACTED, in place within cap bytes.
 * Returns the new length. */
static size_t scrub(char *s, size_t len, size_t cap)
{
    for (size_t k = 0; k < n_secrets; k++) {
        const struct secret_entry *e = &secrets[k];
        size_t i = 0;
        while (i + e->len <= len) {
            char *hit = memmem(s + i, len - i, e->bytes, e->len);
            if (hit == NULL)
                break;
            size_t at = (size_t)(hit - s);
            size_t rlen = strlen(REDACTED);
            size_t tail = len - at - e->len;
            if (at + rlen + 1 > cap) { /* no room even for the marker: cut the line here */
                len = at;
                break;
            }
            if (at + rlen + tail >= cap)
                tail = cap - 1 - at - rlen; /* truncate rather than overflow */
            memmove(s + at + rlen, s + at + e->len, tail);
            memcpy(s + at, REDACTED, rlen);
            len = at + rlen + tail;
            i = at + rlen;
        }
    }
    s[len] = '\0';
    return len;
}

struct out {
    char buf[LINE_MAX_BYTES];
    size_t len;
};

static void out_raw(struct out *o, const char *s, size_t n)
{
    if (o->len + n >= sizeof(o->buf) - 2)
        n = sizeof(o->buf) - 2 - o->len;
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void out_str(struct out *o, const char *s)
{
    out_raw(o, s, strlen(s));
}

/* JSON string body (no quotes); control bytes escaped, invalid UTF-8 passed as-is bytes
 * would make the line invalid JSON, so bytes >= 0x80 that do not form valid UTF-8 are
 * replaced by U+FFFD. */
static void out_json_escaped(struct out *o, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        unsigned char c = p[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            out_raw(o, esc, 2);
            i++;
        } else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            out_raw(o, esc, 6);
            i++;
        } else if (c < 0x80) {
            out_raw(o, (const char *)&p[i], 1);
            i++;
        } else {
            size_t need = c >= 0xf0 && c <= 0xf4  ? 4
                          : c >= 0xe0             ? 3
                          : c >= 0xc2 && c < 0xe0 ? 2
                                                  : 0;
            bool ok = need > 0 && i + need <= n;
            for (size_t k = 1; ok && k < need; k++)
                ok = (p[i + k] & 0xc0) == 0x80;
            if (ok) {
                out_raw(o, (const char *)&p[i], need);
                i += need;
            } else {
                out_str(o, "\xef\xbf\xbd");
                i++;
            }
        }
    }
}

/* Text format: printable ASCII kept, anything else as \xNN so a line stays one line. */
static void out_text_escaped(struct out *o, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7f) {
            out_raw(o, (const char *)&s[i], 1);
        } else {
            char esc[8];
            snprintf(esc, sizeof(esc), "\\x%02x", c);
            out_raw(o, esc, 4);
        }
    }
}

const char *gw_log_level_name(enum gw_log_level level)
{
    switch (level) {
    case GW_LOG_DEBUG:
        return "debug";
    case GW_LOG_INFO:
        return "info";
    case GW_LOG_WARN:
        return "warn";
    case GW_LOG_ERROR:
        return "error";
    }
    return "info";
}

static void now_iso(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

void gw_log_fields(enum gw_log_level level, const char *request_id, const char *msg,
                   const struct gw_log_field *fields, size_t n_fields)
{
    if (level < min_level)
        return;
    char scratch[MSG_MAX_BYTES];
    char ts[40];
    now_iso(ts, sizeof(ts));
    struct out o = {.len = 0};
    bool json = out_format == GW_LOG_FORMAT_JSON;
    void (*esc)(struct out *, const char *, size_t) = json ? out_json_escaped : out_text_escaped;

    if (json) {
        out_str(&o, "{\"time\":\"");
        out_str(&o, ts);
        out_str(&o, "\",\"level\":\"");
        out_str(&o, gw_log_level_name(level));
        out_str(&o, "\",\"msg\":\"");
    } else {
        out_str(&o, ts);
        out_str(&o, " ");
        out_str(&o, gw_log_level_name(level));
        out_str(&o, " ");
    }
    snprintf(scratch, sizeof(scratch), "%s", msg ? msg : "");
    size_t len = scrub(scratch, strlen(scratch), sizeof(scratch));
    esc(&o, scratch, len);
    if (json)
        out_str(&o, "\"");
    if (request_id != NULL && request_id[0] != '\0') {
        out_str(&o, json ? ",\"request_id\":\"" : " request_id=");
        snprintf(scratch, sizeof(scratch), "%s", request_id);
        len = scrub(scratch, strlen(scratch), sizeof(scratch));
        esc(&o, scratch, len);
        if (json)
            out_str(&o, "\"");
    }
    for (size_t i = 0; i < n_fields; i++) {
        const struct gw_log_field *f = &fields[i];
        out_str(&o, json ? ",\"" : " ");
        out_str(&o, f->key);
        out_str(&o, json ? "\":" : "=");
        if (f->str != NULL) {
            snprintf(scratch, sizeof(scratch), "%s", f->str);
            len = scrub(scratch, strlen(scratch), sizeof(scratch));
            if (json)
                out_str(&o, "\"");
            esc(&o, scratch, len);
            if (json)
                out_str(&o, "\"");
        } else {
            snprintf(scratch, sizeof(scratch), "%lld", f->num);
            out_str(&o, scratch);
        }
    }
    if (json)
        out_str(&o, "}");
    o.buf[o.len++] = '\n';

    pthread_mutex_lock(&out_lock);
    size_t off = 0;
    while (off < o.len) {
        ssize_t w = write(STDERR_FILENO, o.buf + off, o.len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    pthread_mutex_unlock(&out_lock);
}

void gw_log(enum gw_log_level level, const char *request_id, const char *fmt, ...)
{
    if (level < min_level)
        return;
    char msg[MSG_MAX_BYTES];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    gw_log_fields(level, request_id, msg, NULL, 0);
}

const char *gw_log_redact(const void *secret, size_t len, char *buf, size_t buflen)
{
    (void)secret;
    snprintf(buf, buflen, "[redacted, %zu bytes]", len);
    return buf;
}

int gw_log_header_is_sensitive(const char *name)
{
    static const char *const exact[] = {
        "authorization", "proxy-authorization", "cookie", "set-cookie", "x-hook-secret",
    };
    static const char *const contains[] = {"signature", "token", "secret", "api-key", "apikey"};
    if (name == NULL)
        return 0;
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcasecmp(name, exact[i]) == 0)
            return 1;
    char lower[128];
    size_t n = strlen(name);
    if (n >= sizeof(lower))
        return 1; /* an absurd header name is not worth the risk */
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)name[i]);
    for (size_t i = 0; i < sizeof(contains) / sizeof(contains[0]); i++)
        if (strstr(lower, contains[i]) != NULL)
            return 1;
    return 0;
}
