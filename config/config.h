/* config.h — the ctgw configuration as loaded from YAML and validated: the types every
 * command reads, and the loader that fills them. */
#ifndef CTGW_CONFIG_H
#define CTGW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "verifiers/secret.h"

struct gw_cfg_key;
struct gw_cfg_setup;
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
    /* Peers (networks, config/cidr.h) whose X-Forwarded-For names the real source: load
     * balancers in front of ctgw. Empty: the peer is the source. */
    char **trusted_proxies;
    size_t n_trusted_proxies;
    /* A request head must be complete this long after the accept or the previous answer,
     * default 10 s. */
    uint64_t header_timeout_ms;
    /* Bytes of announced request bodies accepted and not yet answered, across the listener,
     * default 256 MiB; past it new bodies are answered 503 before they are read. */
    uint64_t max_body_bytes_in_flight;
};

struct gw_admin_config {
    char *address;          /* default "127.0.0.1" */
    uint16_t port;          /* required */
    struct gw_secret token; /* required; bearer token for admin endpoints */
};

/* `database.tls:` — TLS on the TCP connection to MariaDB/MySQL (config/db_tls.h). */
struct gw_database_tls_config {
    bool enabled;        /* true when the `tls` mapping is present */
    struct gw_secret ca; /* PEM text of the CA certificates (`file:PATH`), checked at load */
    char *ca_path;       /* that file's absolute path: the connector reads it at each connect */
    int verify;          /* 1 (default): the server's certificate and host name are verified */
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
    struct gw_database_tls_config tls;
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

/* `limits:` — what one source or one endpoint may send, and how rejections are audited. */
struct gw_limits_config {
    uint32_t per_source;         /* requests per second from one source address; 0: no limit */
    uint32_t per_source_burst;   /* requests at once above the rate; 0: twice per_source */
    uint32_t per_endpoint;       /* requests per second to one endpoint; 0: no limit */
    uint32_t per_endpoint_burst; /* 0: twice per_endpoint */
    /* Rejections (bad signatures, refused requests) of one kind, endpoint and source written
     * to audit_log one by one per audit_window; the rest are counted into one summary row. */
    uint32_t audit_each;      /* default 5 */
    uint64_t audit_window_ms; /* default 60 s */
    /* How late a source's refusals are answered once it is over its rate or past audit_each
     * rejections of a window: its connections then wait instead of flooding; 0: never. */
    uint64_t refusal_delay_ms; /* default 1 s */
};

/* `retention:` — what `ctgw purge`, and serve once every `interval`, remove. */
struct gw_retention_config {
    uint64_t raw_bodies_ms; /* default 30 days: bodies of done/ignored events older than this
                               are emptied (the row, its hash and its result stay) */
    uint64_t audit_ms;      /* default 365 days: audit_log rows older than this are deleted */
    uint32_t batch;         /* rows per statement, default 500, 1..10000 */
    uint64_t interval_ms;   /* serve purges this often, default 24 h, 1 s..7 days */
};

/* `mail:` — e-mail to ticket. Without the section every limit still has its default, and
 * thread_key and domain are absent (enabled false): ctgw then builds no thread ids. */
struct gw_mail_config {
    bool enabled;                 /* the section is written; then thread_key and domain are too */
    struct gw_secret thread_key;  /* KEY32 as written: the HMAC key of thread ids */
    char *domain;                 /* right-hand side of our Message-IDs and reply addresses */
    char *loop_marker;            /* our X-CanTicket-Loop value; NULL: derived from thread_key
                                     (gateway/core/mail_thread.h) */
    uint32_t max_per_sender_hour; /* default 30, 1..100000 */
    uint64_t max_message;         /* default 25 MiB, 1 KiB..64 MiB */
    uint32_t max_parts;           /* default 100, 1..10000 */
    uint32_t max_depth;           /* default 10, 1..100 */
    uint64_t max_header_bytes;    /* default 256 KiB, 1 KiB..16 MiB */
    uint64_t max_attachment;      /* per file, default 25 MiB, 1 B..64 MiB */
    uint64_t
        max_attachments_total; /* per message, default 25 MiB, 1 B..64 MiB, >= max_attachment */
};

/* One `endpoints:` entry: what every endpoint has, and the keys verifiers read. Keys beyond
 * id/provider/max_body are allowed per provider: its `endpoint_keys` table (adapters/
 * provider.h) points into this struct, its `config_keys` into its own config struct, which
 * the loader allocates (zeroed) at `provider_config` and frees with the config. */
struct gw_endpoint_config {
    char *id;
    const struct gw_provider *provider;
    uint64_t max_body;         /* default ingest.max_body, at most 64 MiB */
    struct gw_secret *secrets; /* newest first; any one verifying is enough */
    size_t n_secrets;
    char *company;               /* company slug, for providers bound to one company */
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
    /* Sync providers: the answer deadline the gateway keeps (not the adapter, so it lives
     * here); set by providers that list `reply_deadline`; 0: the provider's own. */
    uint64_t reply_deadline_ms;
    void *provider_config; /* the provider's own struct (config_size bytes), or NULL */
    unsigned line;         /* line of the entry in the file, for later messages */
};

/* What the loader needs to know of one provider, filled by gw_config_providers.describe. */
struct gw_cfg_provider {
    /* Keys stored in struct gw_endpoint_config, terminated by a NULL name; may be NULL. */
    const struct gw_cfg_key *endpoint_keys;
    /* Keys stored in the provider's own struct of config_size bytes; may be NULL. */
    const struct gw_cfg_key *config_keys;
    size_t config_size; /* 0: the provider has no struct of its own */
    /* Called once per endpoint whose keys all loaded: checks what spans keys, reporting
     * through gw_cfg_setup_error (config/config_keys.h), and may fill derived fields of
     * ep->provider_config. NULL when not needed. */
    void (*setup)(struct gw_endpoint_config *ep, struct gw_cfg_setup *s);
    /* The endpoint takes raw e-mail: its max_body defaults to mail.max_message. */
    bool mail_body;
};

/* How the loader finds providers, passed in by whoever loads a config so that config/
 * never names adapters/ (adapters/provider.h: gw_providers_for_config). The loader keeps a
 * copy to free what the providers' keys stored. */
struct gw_config_providers {
    /* The provider called NAME (stored opaque in gw_endpoint_config.provider), or NULL. */
    const struct gw_provider *(*find)(const char *name);
    /* Fills OUT for P, a provider find returned. */
    void (*describe)(const struct gw_provider *p, struct gw_cfg_provider *out);
    /* Writes "a, b, c", every provider name, for the message about an unknown one. */
    void (*names)(char *buf, size_t len);
};

/* How many retired keys `previous_secrets_keys` may list. */
#define GW_CFG_MAX_PREVIOUS_SECRETS_KEYS 8

struct gw_config {
    char *path;
    struct gw_listen_config listen;
    struct gw_admin_config admin;
    struct gw_database_config database;
    struct gw_ingest_config ingest;
    struct gw_workers_config workers;
    struct gw_log_config log;
    struct gw_mail_config mail;
    struct gw_retention_config retention;
    struct gw_limits_config limits;
    struct gw_endpoint_config *endpoints;
    size_t n_endpoints;
    /* The key integration credentials are sealed with (data == NULL when absent), as
     * written: checked to decode to 32 bytes when loaded (GW_CFG_KEY32). */
    struct gw_secret secrets_key;
    /* Retired keys, newest first, that only open what they sealed until `ctgw rekey`. */
    struct gw_secret *previous_secrets_keys;
    size_t n_previous_secrets_keys;
    struct gw_config_providers providers; /* as given to gw_config_load */
};

/* Every error found in one pass, each formatted "FILE:LINE: message" (no newline). */
struct gw_config_errors {
    char **lines;
    size_t n;
};

/* Loads and validates PATH, finding the providers endpoints name through PROVIDERS (NULL:
 * none is known). Returns NULL when there was any error; every error found is appended to
 * `errs` (which the caller zero-initialises and frees with gw_config_errors_finish). On
 * success `errs` is left empty. */
struct gw_config *gw_config_load(const char *path, const struct gw_config_providers *providers,
                                 struct gw_config_errors *errs);
void gw_config_destroy(struct gw_config *cfg);
void gw_config_errors_finish(struct gw_config_errors *errs);

const struct gw_endpoint_config *gw_config_endpoint(const struct gw_config *cfg, const char *id);

/* Calls fn once for every secret the config holds (admin token, database password, tls
 * key, credential keys, endpoint secrets, those of providers' own structs), so that the
 * logger can refuse to print them. */
void gw_config_each_secret(const struct gw_config *cfg,
                           void (*fn)(const struct gw_secret *secret, void *ud), void *ud);

/* One line such as "ok: 3 endpoints, listen 0.0.0.0:8443 (tls 1.2+), admin 127.0.0.1:9090,
 * database canticket via /path/to.sock". Never contains a secret. */
void gw_config_summary(const struct gw_config *cfg, char *buf, size_t len);

#endif
