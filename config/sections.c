/* sections.c — the key tables of the configuration file: every key, its type, where it is
 * stored, its bounds and its default, in one place. */
#include "config/sections.h"

#include <stddef.h>

#include "config/config.h"
#include "config/db_tls.h"
#include "config/walk.h"

#define KiB       (1024ull)
#define MiB       (1024ull * 1024ull)
#define SECOND_MS 1000ull
#define HOUR_MS   (3600ull * 1000ull)
#define DAY_MS    (24ull * HOUR_MS)
#define END                                                                                        \
    {                                                                                              \
        .name = NULL                                                                               \
    }

/* CHOICE keys store an int into enum fields. */
_Static_assert(sizeof(enum gw_cfg_log_level) == sizeof(int), "enum gw_cfg_log_level is not an int");
_Static_assert(sizeof(enum gw_cfg_log_format) == sizeof(int),
               "enum gw_cfg_log_format is not an int");
/* SECRET_LIST keys find their count right after the pointer. */
_Static_assert(offsetof(struct gw_endpoint_config, n_secrets) ==
                   offsetof(struct gw_endpoint_config, secrets) + sizeof(struct gw_secret *),
               "n_secrets must follow secrets");

static const struct gw_cfg_choice tls_versions[] = {{"1.2", 12}, {"1.3", 13}, {NULL, 0}};

static const struct gw_cfg_choice log_levels[] = {
    {"debug", GW_CFG_LOG_DEBUG},
    {"info", GW_CFG_LOG_INFO},
    {"warn", GW_CFG_LOG_WARN},
    {"error", GW_CFG_LOG_ERROR},
    {NULL, 0},
};

static const struct gw_cfg_choice log_formats[] = {
    {"json", GW_CFG_LOG_FORMAT_JSON}, {"text", GW_CFG_LOG_FORMAT_TEXT}, {NULL, 0}};

#define TLS(f) offsetof(struct gw_tls_config, f)
static const struct gw_cfg_key tls_keys[] = {
    {.name = "cert", .type = GW_CFG_FILE, .offset = TLS(cert), .flags = GW_CFG_REQUIRED},
    {.name = "key", .type = GW_CFG_SECRET, .offset = TLS(key), .flags = GW_CFG_REQUIRED},
    {.name = "min_version",
     .type = GW_CFG_CHOICE,
     .offset = TLS(min_version),
     .def = 12,
     .choices = tls_versions},
    END,
};

/* Bounds the header does not give are ours: wide enough for any sane deployment, narrow
 * enough that a typo (a missing unit, an extra zero) is caught. */
#define LISTEN(f) offsetof(struct gw_listen_config, f)
static const struct gw_cfg_key listen_keys[] = {
    {.name = "address",
     .type = GW_CFG_STRING,
     .offset = LISTEN(address),
     .min = 1,
     .max = 255,
     .def_str = "0.0.0.0"},
    {.name = "port", .type = GW_CFG_PORT, .offset = LISTEN(port), .flags = GW_CFG_REQUIRED},
    {.name = "tls",
     .type = GW_CFG_SECTION,
     .offset = LISTEN(tls),
     .section = tls_keys,
     .flags = GW_CFG_MARK_PRESENT,
     .present = LISTEN(tls.enabled)},
    {.name = "max_connections",
     .type = GW_CFG_UINT,
     .offset = LISTEN(max_connections),
     .min = 1,
     .max = 1000000,
     .def = 4096},
    {.name = "max_header_size",
     .type = GW_CFG_SIZE,
     .offset = LISTEN(max_header_size),
     .min = 1 * KiB,
     .max = 1 * MiB,
     .def = 16 * KiB},
    {.name = "timeout",
     .type = GW_CFG_DURATION,
     .offset = LISTEN(timeout_ms),
     .min = 1,
     .max = DAY_MS,
     .def = 30 * SECOND_MS},
    {.name = "trusted_proxies",
     .type = GW_CFG_STRING_LIST,
     .offset = LISTEN(trusted_proxies),
     .min = 1,
     .max = 64,
     .def = 64},
    {.name = "header_timeout",
     .type = GW_CFG_DURATION,
     .offset = LISTEN(header_timeout_ms),
     .min = 1,
     .max = 10 * 60 * SECOND_MS,
     .def = 10 * SECOND_MS},
    {.name = "max_body_bytes_in_flight",
     .type = GW_CFG_SIZE,
     .offset = LISTEN(max_body_bytes_in_flight),
     .min = 1 * KiB,
     .max = 64 * 1024 * MiB,
     .def = 256 * MiB},
    END,
};

#define ADMIN(f) offsetof(struct gw_admin_config, f)
static const struct gw_cfg_key admin_keys[] = {
    {.name = "address",
     .type = GW_CFG_STRING,
     .offset = ADMIN(address),
     .min = 1,
     .max = 255,
     .def_str = "127.0.0.1"},
    {.name = "port", .type = GW_CFG_PORT, .offset = ADMIN(port), .flags = GW_CFG_REQUIRED},
    {.name = "token",
     .type = GW_CFG_SECRET,
     .offset = ADMIN(token),
     .min = 16,
     .flags = GW_CFG_REQUIRED},
    END,
};

static const struct gw_cfg_choice booleans[] = {{"true", 1}, {"false", 0}, {NULL, 0}};

/* ca is CUSTOM: its text is checked here and its path kept for the connector. */
#define DBTLS(f) offsetof(struct gw_database_tls_config, f)
static const struct gw_cfg_key database_tls_keys[] = {
    {.name = "ca",
     .type = GW_CFG_CUSTOM,
     .offset = DBTLS(ca),
     .walk = gw_cfg_walk_db_tls_ca,
     .destroy = gw_cfg_release_db_tls_ca},
    {.name = "verify",
     .type = GW_CFG_CHOICE,
     .offset = DBTLS(verify),
     .def = 1,
     .choices = booleans},
    END,
};

/* 107: a unix socket path must fit sun_path with its NUL; 80 and 64: MariaDB's limits on
 * user and schema names. */
#define DB(f) offsetof(struct gw_database_config, f)
static const struct gw_cfg_key database_keys[] = {
    {.name = "host",
     .type = GW_CFG_STRING,
     .offset = DB(host),
     .min = 1,
     .max = 255,
     .def_str = "127.0.0.1"},
    {.name = "port", .type = GW_CFG_PORT, .offset = DB(port), .def = 3306},
    {.name = "socket", .type = GW_CFG_STRING, .offset = DB(socket), .min = 1, .max = 107},
    {.name = "user",
     .type = GW_CFG_STRING,
     .offset = DB(user),
     .min = 1,
     .max = 80,
     .flags = GW_CFG_REQUIRED},
    {.name = "password", .type = GW_CFG_SECRET, .offset = DB(password)},
    {.name = "name",
     .type = GW_CFG_STRING,
     .offset = DB(name),
     .min = 1,
     .max = 64,
     .flags = GW_CFG_REQUIRED},
    {.name = "pool", .type = GW_CFG_UINT, .offset = DB(pool), .min = 1, .max = 256, .def = 8},
    {.name = "connect_timeout",
     .type = GW_CFG_DURATION,
     .offset = DB(connect_timeout_ms),
     .min = 1,
     .max = DAY_MS,
     .def = 5 * SECOND_MS},
    {.name = "timeout",
     .type = GW_CFG_DURATION,
     .offset = DB(timeout_ms),
     .min = 1,
     .max = DAY_MS,
     .def = 30 * SECOND_MS},
    {.name = "tls",
     .type = GW_CFG_SECTION,
     .offset = DB(tls),
     .section = database_tls_keys,
     .flags = GW_CFG_MARK_PRESENT,
     .present = DB(tls.enabled)},
    END,
};

#define INGEST(f) offsetof(struct gw_ingest_config, f)
static const struct gw_cfg_key ingest_keys[] = {
    {.name = "writers",
     .type = GW_CFG_UINT,
     .offset = INGEST(writers),
     .min = 1,
     .max = 64,
     .def = 2},
    {.name = "batch_max",
     .type = GW_CFG_UINT,
     .offset = INGEST(batch_max),
     .min = 1,
     .max = 10000,
     .def = 256},
    {.name = "max_body",
     .type = GW_CFG_SIZE,
     .offset = INGEST(max_body),
     .min = 1 * KiB,
     .max = 64 * MiB,
     .def = 1 * MiB},
    END,
};

#define LIMITS(f) offsetof(struct gw_limits_config, f)
static const struct gw_cfg_key limits_keys[] = {
    {.name = "per_source",
     .type = GW_CFG_UINT,
     .offset = LIMITS(per_source),
     .min = 0,
     .max = 1000000,
     .def = 0},
    {.name = "per_source_burst",
     .type = GW_CFG_UINT,
     .offset = LIMITS(per_source_burst),
     .min = 0,
     .max = 1000000,
     .def = 0},
    {.name = "per_endpoint",
     .type = GW_CFG_UINT,
     .offset = LIMITS(per_endpoint),
     .min = 0,
     .max = 1000000,
     .def = 0},
    {.name = "per_endpoint_burst",
     .type = GW_CFG_UINT,
     .offset = LIMITS(per_endpoint_burst),
     .min = 0,
     .max = 1000000,
     .def = 0},
    {.name = "audit_each",
     .type = GW_CFG_UINT,
     .offset = LIMITS(audit_each),
     .min = 1,
     .max = 10000,
     .def = 5},
    {.name = "audit_window",
     .type = GW_CFG_DURATION,
     .offset = LIMITS(audit_window_ms),
     .min = SECOND_MS,
     .max = DAY_MS,
     .def = 60 * SECOND_MS},
    {.name = "refusal_delay",
     .type = GW_CFG_DURATION,
     .offset = LIMITS(refusal_delay_ms),
     .min = 0,
     .max = 60 * SECOND_MS,
     .def = SECOND_MS},
    END,
};

#define RETENTION(f) offsetof(struct gw_retention_config, f)
static const struct gw_cfg_key retention_keys[] = {
    {.name = "raw_bodies",
     .type = GW_CFG_DURATION,
     .offset = RETENTION(raw_bodies_ms),
     .min = HOUR_MS,
     .max = 3650 * DAY_MS,
     .def = 30 * DAY_MS},
    {.name = "audit",
     .type = GW_CFG_DURATION,
     .offset = RETENTION(audit_ms),
     .min = DAY_MS,
     .max = 3650 * DAY_MS,
     .def = 365 * DAY_MS},
    {.name = "batch",
     .type = GW_CFG_UINT,
     .offset = RETENTION(batch),
     .min = 1,
     .max = 10000,
     .def = 500},
    {.name = "interval",
     .type = GW_CFG_DURATION,
     .offset = RETENTION(interval_ms),
     .min = SECOND_MS,
     .max = 7 * DAY_MS,
     .def = DAY_MS},
    END,
};

/* `backoff` is a section of its own in the file but flat fields in the struct, so its
 * table describes struct gw_workers_config too and the section sits at offset 0. */
#define WORKERS(f) offsetof(struct gw_workers_config, f)
static const struct gw_cfg_key backoff_keys[] = {
    {.name = "base",
     .type = GW_CFG_DURATION,
     .offset = WORKERS(backoff_base_ms),
     .min = 1,
     .max = 7 * DAY_MS,
     .def = 2 * SECOND_MS},
    {.name = "max",
     .type = GW_CFG_DURATION,
     .offset = WORKERS(backoff_max_ms),
     .min = 1,
     .max = 7 * DAY_MS,
     .def = 1 * HOUR_MS},
    END,
};

static const struct gw_cfg_key workers_keys[] = {
    {.name = "threads",
     .type = GW_CFG_UINT,
     .offset = WORKERS(threads),
     .min = 0,
     .max = 256,
     .def = 4},
    {.name = "max_attempts",
     .type = GW_CFG_UINT,
     .offset = WORKERS(max_attempts),
     .min = 1,
     .max = 100,
     .def = 8},
    {.name = "backoff", .type = GW_CFG_SECTION, .offset = 0, .section = backoff_keys},
    END,
};

#define LOG(f) offsetof(struct gw_log_config, f)
static const struct gw_cfg_key log_keys[] = {
    {.name = "level",
     .type = GW_CFG_CHOICE,
     .offset = LOG(level),
     .def = GW_CFG_LOG_INFO,
     .choices = log_levels},
    {.name = "format",
     .type = GW_CFG_CHOICE,
     .offset = LOG(format),
     .def = GW_CFG_LOG_FORMAT_JSON,
     .choices = log_formats},
    END,
};

/* The message limits bound what the parser holds in memory at once; 64 MiB is the largest
 * body any endpoint accepts (ingest.max_body), so nothing larger can arrive. */
#define MAIL(f) offsetof(struct gw_mail_config, f)
static const struct gw_cfg_key mail_keys[] = {
    {.name = "thread_key",
     .type = GW_CFG_KEY32,
     .offset = MAIL(thread_key),
     .flags = GW_CFG_REQUIRED},
    {.name = "domain",
     .type = GW_CFG_STRING,
     .offset = MAIL(domain),
     .min = 1,
     .max = 253,
     .flags = GW_CFG_REQUIRED},
    {.name = "loop_marker",
     .type = GW_CFG_STRING,
     .offset = MAIL(loop_marker),
     .min = 1,
     .max = 200},
    {.name = "max_per_sender_hour",
     .type = GW_CFG_UINT,
     .offset = MAIL(max_per_sender_hour),
     .min = 1,
     .max = 100000,
     .def = 30},
    {.name = "max_message",
     .type = GW_CFG_SIZE,
     .offset = MAIL(max_message),
     .min = 1 * KiB,
     .max = 64 * MiB,
     .def = 25 * MiB},
    {.name = "max_parts",
     .type = GW_CFG_UINT,
     .offset = MAIL(max_parts),
     .min = 1,
     .max = 10000,
     .def = 100},
    {.name = "max_depth",
     .type = GW_CFG_UINT,
     .offset = MAIL(max_depth),
     .min = 1,
     .max = 100,
     .def = 10},
    {.name = "max_header_bytes",
     .type = GW_CFG_SIZE,
     .offset = MAIL(max_header_bytes),
     .min = 1 * KiB,
     .max = 16 * MiB,
     .def = 256 * KiB},
    {.name = "max_attachment",
     .type = GW_CFG_SIZE,
     .offset = MAIL(max_attachment),
     .min = 1,
     .max = 64 * MiB,
     .def = 25 * MiB},
    {.name = "max_attachments_total",
     .type = GW_CFG_SIZE,
     .offset = MAIL(max_attachments_total),
     .min = 1,
     .max = 64 * MiB,
     .def = 25 * MiB},
    END,
};

#define TOP(f) offsetof(struct gw_config, f)

/* SECRET_LIST keys find their count right after the pointer. */
_Static_assert(offsetof(struct gw_config, n_previous_secrets_keys) ==
                   offsetof(struct gw_config, previous_secrets_keys) + sizeof(struct gw_secret *),
               "n_previous_secrets_keys must follow previous_secrets_keys");

const struct gw_cfg_key gw_cfg_top_keys[] = {
    {.name = "listen",
     .type = GW_CFG_SECTION,
     .offset = TOP(listen),
     .section = listen_keys,
     .flags = GW_CFG_REQUIRED},
    {.name = "admin",
     .type = GW_CFG_SECTION,
     .offset = TOP(admin),
     .section = admin_keys,
     .flags = GW_CFG_REQUIRED},
    {.name = "database",
     .type = GW_CFG_SECTION,
     .offset = TOP(database),
     .section = database_keys,
     .flags = GW_CFG_REQUIRED},
    {.name = "ingest", .type = GW_CFG_SECTION, .offset = TOP(ingest), .section = ingest_keys},
    {.name = "workers", .type = GW_CFG_SECTION, .offset = TOP(workers), .section = workers_keys},
    {.name = "log", .type = GW_CFG_SECTION, .offset = TOP(log), .section = log_keys},
    {.name = "limits", .type = GW_CFG_SECTION, .offset = TOP(limits), .section = limits_keys},
    {.name = "retention",
     .type = GW_CFG_SECTION,
     .offset = TOP(retention),
     .section = retention_keys},
    {.name = "mail",
     .type = GW_CFG_SECTION,
     .offset = TOP(mail),
     .section = mail_keys,
     .flags = GW_CFG_MARK_PRESENT,
     .present = TOP(mail.enabled)},
    {.name = "endpoints",
     .type = GW_CFG_CUSTOM,
     .offset = TOP(endpoints),
     .walk = gw_cfg_walk_endpoints,
     .destroy = gw_cfg_release_endpoints},
    /* Each must decode to an AES-256 key, checked here rather than by whichever command
     * first needs the keyring. */
    {.name = "secrets_key", .type = GW_CFG_KEY32, .offset = TOP(secrets_key)},
    {.name = "previous_secrets_keys",
     .type = GW_CFG_KEY32_LIST,
     .offset = TOP(previous_secrets_keys),
     .max = GW_CFG_MAX_PREVIOUS_SECRETS_KEYS},
    END,
};

/* max_body has no default here: an endpoint that leaves it out gets ingest.max_body, which
 * is only known once the whole file is read (ingest may come after endpoints). */
#define EP(f) offsetof(struct gw_endpoint_config, f)
const struct gw_cfg_key gw_cfg_endpoint_keys[] = {
    {.name = "id", .type = GW_CFG_SLUG, .offset = EP(id), .flags = GW_CFG_REQUIRED},
    {.name = "provider", .type = GW_CFG_PROVIDER, .offset = EP(provider), .flags = GW_CFG_REQUIRED},
    {.name = "max_body", .type = GW_CFG_SIZE, .offset = EP(max_body), .min = 1, .max = 64 * MiB},
    END,
};
