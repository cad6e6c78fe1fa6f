/* config.h — the ctgw configuration as loaded from YAML and validated: the types every
 * command reads, and the loader that fills them. */
#ifndef CTGW_CONFIG_H
#define CTGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verifiers/secret.h"

struct gw_provider;

/* `log:` settings; the logger (gateway/base/log.h) has its own enums, mapped by main.c. */
enum gw_cfg_log_level { GW_CFG_LOG_DEBUG, GW_CFG_LOG_INFO, GW_CFG_LOG_WARN, GW_CFG_LOG_ERROR };
enum gw_cfg_log_format { GW_CFG_LOG_FORMAT_JSON, GW_CFG_LOG_FORMAT_TEXT };

/* Secrets (struct gw_secret, verifiers/secret.h) are the bytes resolved from `${NAME}` or
 * `file:PATH`, owned by the config. */

/* A mapping of short names to strings, e.g. contact-form topics to team names. */
struct gw_string_pair {
    char *key;
    char *value;
};
struct gw_string_map {
    struct gw_string_pair *items;
    size_t n;
};

/* The value of KEY in MAP, or NULL. */
const char *gw_string_map_get(const struct gw_string_map *map, const char *key);

struct gw_tls_config {
    bool enabled;          /* true when the `tls` mapping is present */
    struct gw_secret cert; /* PEM text of the certificate chain (`file:PATH`) */
    struct gw_secret key;  /* PEM text of the private key (`file:PATH` or `${NAME}`) */
    int min_version;       /* 12 for TLS 1.2 (default), 13 for TLS 1.3 */
};

struct gw_listen_config {
    char *address; /* default "0.0.0.0" */
    uint16_t port; /* required */
    struct gw_tls_config tls;
    uint32_t max_connections; /* default 4096 */
    uint64_t max_header_size; /* default 16 KiB */
    uint64_t timeout_ms;      /* read/write timeout per connection, default 30 s */
};

struct gw_admin_config {
    char *address;          /* default "127.0.0.1" */
    uint16_t port;          /* required */
    struct gw_secret token; /* required; bearer token for admin endpoints */
};

struct gw_database_config {
    char *host;                  /* default "127.0.0.1" */
    uint16_t port;               /* default 3306 */
    char *socket;                /* optional unix socket; preferred over host/port when set */
    char *user;                  /* required */
    struct gw_secret password;   /* optional (data == NULL when absent) */
    char *name;                  /* required, the schema name */
    uint32_t pool;               /* default 8, 1..256 */
    uint64_t connect_timeout_ms; /* default 5 s */
    uint64_t timeout_ms;         /* read/write timeout per query, default 30 s */
};

struct gw_ingest_config {
    uint32_t writers;   /* default 2, 1..64 */
    uint32_t batch_max; /* default 256, 1..10000 */
    uint64_t max_body;  /* default 1 MiB, 1 KiB..64 MiB */
};

struct gw_workers_config {
    uint32_t threads;         /* default 4, 0..256 */
    uint32_t max_attempts;    /* default 8, 1..100 */
    uint64_t backoff_base_ms; /* default 2 s */
    uint64_t backoff_max_ms;  /* default 1 h, >= base */
};

struct gw_log_config {
    enum gw_cfg_log_level level;   /* default info */
    enum gw_cfg_log_format format; /* default json */
};

/* One `endpoints:` entry. Keys beyond id/provider/max_body are allowed per provider by the
 * provider's `endpoint_keys` table (adapters/provider.h), which points into this struct. */
struct gw_endpoint_config {
    char *id;
    const struct gw_provider *provider;
    uint64_t max_body;         /* default ingest.max_body, at most 64 MiB */
    struct gw_secret *secrets; /* newest first; any one verifying is enough */
    size_t n_secrets;
    char *company;               /* company slug, for providers bound to one company */
    struct gw_string_map teams;  /* contact-form: topic -> team name */
    uint64_t tolerance_ms;       /* replay window of timestamped schemes; 0: the scheme's default */
    struct gw_secret public_key; /* ghl: PEM of the Ed25519 key (file:) */
    struct gw_secret legacy_public_key; /* ghl: PEM of the legacy RSA key (file:) */
    char **topics;                      /* sns: the TopicArns this endpoint accepts */
    size_t n_topics;
    char *cert_host_pattern;   /* sns: host pattern of SigningCertURL; NULL: the default */
    char *ca_file;             /* sns: path of extra trust anchors (tests, private CAs) */
    char *username;            /* basic-auth: the user the relay's URL carries */
    struct gw_secret password; /* basic-auth: its password */
    char *header;              /* token: the header carrying the token; NULL: Authorization */
    struct gw_secret token;    /* token: the expected value */
    char **commands;           /* slack: slash commands answered ("/job"); none: /job only */
    size_t n_commands;
    char *app_url; /* slack: CanTicket's base URL for links; NULL: no links */
    char *app_id; /* slack: the app id (A…) a command's api_app_id must name; NULL: not checked */
    uint64_t reply_deadline_ms; /* sync providers: answer deadline; 0: the provider's own */
    char **response_url_hosts;  /* slack: hosts delayed replies may go to; none: hooks.slack.com */
    size_t n_response_url_hosts;
    char *api_base;                 /* xero: Accounting API base URL; NULL: Xero's */
    char *token_url;                /* xero: OAuth2 token endpoint; NULL: Xero's */
    char *client_id;                /* xero: the app's OAuth2 client id */
    struct gw_secret client_secret; /* xero: the app's OAuth2 client secret */
    uint32_t calls_per_minute;      /* xero: API calls per tenant per minute; 0: 55 */
    unsigned line;                  /* line of the entry in the file, for later messages */
};

struct gw_config {
    char *path;
    struct gw_listen_config listen;
    struct gw_admin_config admin;
    struct gw_database_config database;
    struct gw_ingest_config ingest;
    struct gw_workers_config workers;
    struct gw_log_config log;
    struct gw_endpoint_config *endpoints;
    size_t n_endpoints;
    /* The key integration credentials are sealed with (data == NULL when absent); checked
     * to decode to 32 bytes (gateway/credentials.h) when loaded. */
    struct gw_secret secrets_key;
    /* Retired keys, newest first, that only open what they sealed until `ctgw rekey`. */
    struct gw_secret *previous_secrets_keys;
    size_t n_previous_secrets_keys;
};

/* Every error found in one pass, each formatted "FILE:LINE: message" (no newline). */
struct gw_config_errors {
    char **lines;
    size_t n;
};

/* Loads and validates PATH. Returns NULL when there was any error; every error found is
 * appended to `errs` (which the caller zero-initialises and frees with
 * gw_config_errors_finish). On success `errs` is left empty. */
struct gw_config *gw_config_load(const char *path, struct gw_config_errors *errs);
void gw_config_destroy(struct gw_config *cfg);
void gw_config_errors_finish(struct gw_config_errors *errs);

const struct gw_endpoint_config *gw_config_endpoint(const struct gw_config *cfg, const char *id);

/* Calls fn once for every secret the config holds (admin token, database password, tls
 * key, endpoint secrets), so that the logger can refuse to print them. */
void gw_config_each_secret(const struct gw_config *cfg,
                           void (*fn)(const struct gw_secret *secret, void *ud), void *ud);

/* One line such as "ok: 3 endpoints, listen 0.0.0.0:8443 (tls 1.2+), admin 127.0.0.1:9090,
 * database canticket via /path/to.sock". Never contains a secret. */
void gw_config_summary(const struct gw_config *cfg, char *buf, size_t len);

#endif
