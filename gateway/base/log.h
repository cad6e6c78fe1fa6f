/* log.h — structured logging: one JSON object per line on stderr, and the redaction that
 * keeps secrets out of every line. */
#ifndef CTGW_LOG_H
#define CTGW_LOG_H

#include <stddef.h>

enum gw_log_level { GW_LOG_DEBUG, GW_LOG_INFO, GW_LOG_WARN, GW_LOG_ERROR };
enum gw_log_format { GW_LOG_FORMAT_JSON, GW_LOG_FORMAT_TEXT };

/* "debug", "info", "warn" or "error". */
const char *gw_log_level_name(enum gw_log_level level);

/* Settings from `log:`; safe to call before any thread starts. Until called, level is info
 * and format json. */
void gw_log_configure(enum gw_log_level level, enum gw_log_format format);

/* Remembers a secret so that no log line can ever print it: any occurrence in a message or
 * field is replaced by "[REDACTED]". Secrets shorter than 6 bytes are not registered (they
 * would blank out ordinary words); such secrets are refused by config for the same reason
 * only where a scheme demands it. Not thread-safe: call before starting threads. */
void gw_log_register_secret(const void *secret, size_t len);
void gw_log_forget_secrets(void);

/* An extra key/value on a line. Values are escaped; keys must be literal identifiers. */
struct gw_log_field {
    const char *key;
    const char *str; /* used when not NULL */
    long long num;   /* used when str is NULL */
};
static inline const char *gw_log_str_or_empty(const char *s)
{
    return s ? s : "";
}
/* A NULL value is printed as an empty string. */
#define GW_LOG_STR(k, v)                                                                           \
    ((struct gw_log_field){.key = (k), .str = gw_log_str_or_empty(v), .num = 0})
#define GW_LOG_NUM(k, v) ((struct gw_log_field){.key = (k), .str = NULL, .num = (long long)(v)})

/* The full form: level, request id (may be NULL), message, extra fields. */
void gw_log_fields(enum gw_log_level level, const char *request_id, const char *msg,
                   const struct gw_log_field *fields, size_t n_fields);

/* printf-style convenience forms; the formatted message is bounded to 2 KiB. */
void gw_log(enum gw_log_level level, const char *request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
#define gw_log_debug(rid, ...) gw_log(GW_LOG_DEBUG, (rid), __VA_ARGS__)
#define gw_log_info(rid, ...)  gw_log(GW_LOG_INFO, (rid), __VA_ARGS__)
#define gw_log_warn(rid, ...)  gw_log(GW_LOG_WARN, (rid), __VA_ARGS__)
#define gw_log_error(rid, ...) gw_log(GW_LOG_ERROR, (rid), __VA_ARGS__)

/* Describes a secret without revealing it, for messages such as "secret 2 of 3 (32 bytes)":
 * writes "[redacted, N bytes]" into buf. */
const char *gw_log_redact(const void *secret, size_t len, char *buf, size_t buflen);

/* True for header names whose values are credentials (Authorization, Cookie, signatures,
 * tokens): callers print gw_log_redact() of such values instead. */
int gw_log_header_is_sensitive(const char *name);

#endif
