/* xero_api.c — tokens, budget and GETs against Xero's Accounting API (libcurl, workers). */
#include "adapters/xero/api.h"

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/xero/config.h"
#include "config/config.h"
#include "gateway/core/credentials.h"
#include "gateway/core/integrations.h"
#include "gateway/base/hash.h"
#include "gateway/net/http_client.h"
#include "gateway/base/log.h"

#define DEFAULT_API_BASE   "https://api.xero.com/api.xro/2.0"
#define DEFAULT_TOKEN_URL  "https://identity.xero.com/connect/token"
#define DEFAULT_PER_MINUTE 55  /* Xero allows 60 a minute per tenant: leave room for others */
#define REFRESH_MARGIN_S   120 /* refresh an access token this close to its expiry */
#define BUDGET_SLOTS       512
#define TOKEN_MAX          4096
#define DEFAULT_429_WAIT_S 60

/* ------------------------------------------------------------------ the keyring */

static pthread_mutex_t keyring_lock = PTHREAD_MUTEX_INITIALIZER;
static struct gw_keyring *keyring;
static const struct gw_config *keyring_cfg;

/* The keyring of this config, loaded once (a key rotation needs a restart anyway). */
static const struct gw_keyring *keyring_for(const struct gw_config *cfg, char *err, size_t len)
{
    pthread_mutex_lock(&keyring_lock);
    if (keyring == NULL || keyring_cfg != cfg) {
        gw_keyring_free(keyring);
        keyring = gw_keyring_from_config(cfg, err, len);
        keyring_cfg = keyring != NULL ? cfg : NULL;
    }
    const struct gw_keyring *k = keyring;
    pthread_mutex_unlock(&keyring_lock);
    return k;
}

/* ------------------------------------------------------------------ budget */

/* Calls per tenant in the current minute: a fixed table keyed by a hash of the tenant id,
 * like Xero's own fixed windows. Per process: two ctgw instances each keep their own. */
struct budget {
    uint64_t hash;
    time_t window;
    unsigned calls;
};
static struct budget budgets[BUDGET_SLOTS];
static pthread_mutex_t budget_lock = PTHREAD_MUTEX_INITIALIZER;

/* Takes one call from the tenant's budget; false with the wait when it is spent. */
static bool budget_take(const char *tenant, unsigned per_minute, uint64_t *wait_ms)
{
    uint64_t h = gw_fnv1a(tenant);
    time_t now = time(NULL);
    pthread_mutex_lock(&budget_lock);
    struct budget *b = &budgets[h % BUDGET_SLOTS];
    if (b->hash != h || now - b->window >= 60)
        *b = (struct budget){.hash = h, .window = now, .calls = 0};
    bool ok = b->calls < per_minute;
    if (ok)
        b->calls++;
    else
        *wait_ms = (uint64_t)(60 - (now - b->window)) * 1000 + 250;
    pthread_mutex_unlock(&budget_lock);
    return ok;
}

void gw_xero_budget_reset(void)
{
    pthread_mutex_lock(&budget_lock);
    memset(budgets, 0, sizeof(budgets));
    pthread_mutex_unlock(&budget_lock);
}

/* ------------------------------------------------------------------ tokens */

struct tokens {
    uint64_t integration_id;
    char external_id[256]; /* as stored: the credentials' AAD names it so */
    char refresh[TOKEN_MAX + 1];
    char access[TOKEN_MAX + 1];
    int64_t access_expires_at;
};

static void tokens_clear(struct tokens *t)
{
    OPENSSL_cleanse(t, sizeof(*t));
}

static enum gw_apply_rc fail_with(struct gw_fetch *f, enum gw_apply_rc rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static enum gw_apply_rc fail_with(struct gw_fetch *f, enum gw_apply_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->error, sizeof(f->error), fmt, ap);
    va_end(ap);
    return rc;
}

static bool copy_token(char dst[TOKEN_MAX + 1], const cJSON *v)
{
    if (!cJSON_IsString(v) || v->valuestring[0] == '\0' || strlen(v->valuestring) > TOKEN_MAX)
        return false;
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return true;
}

/* The core's view of the fetch's company, for its integrations rows. */
static struct gw_core_ctx core_of(struct gw_fetch *f)
{
    return (struct gw_core_ctx){.db = f->db, .company_id = f->company_id, .source = "xero"};
}

static enum gw_apply_rc db_failed(struct gw_fetch *f)
{
    return fail_with(f, GW_APPLY_RETRY, "database: %s", gw_db_error(f->db));
}

/* Opens the row's credentials into t: the refresh token, and the access token while one is
 * stored. */
static enum gw_apply_rc open_tokens(struct gw_fetch *f, const struct gw_keyring *k,
                                    const char *tenant, const struct gw_integration *row,
                                    struct tokens *t)
{
    char *plain = NULL;
    size_t plain_len = 0;
    if (gw_credentials_open(k, row->key_id, "xero", t->external_id, row->ciphertext,
                            row->ciphertext_len, &plain, &plain_len) != 0)
        return fail_with(
            f, GW_APPLY_RETRY,
            "cannot open the credentials of the xero integration for tenant %s (key %s): is "
            "that key in secrets_key or previous_secrets_keys?",
            tenant, row->key_id);
    cJSON *o = cJSON_ParseWithLength(plain, plain_len);
    gw_credentials_free(plain, plain_len);
    bool ok =
        o != NULL && copy_token(t->refresh, cJSON_GetObjectItemCaseSensitive(o, "refresh_token"));
    if (ok && !copy_token(t->access, cJSON_GetObjectItemCaseSensitive(o, "access_token")))
        t->access[0] = '\0';
    const cJSON *exp = o ? cJSON_GetObjectItemCaseSensitive(o, "access_expires_at") : NULL;
    t->access_expires_at = exp != NULL && cJSON_IsNumber(exp) ? (int64_t)exp->valuedouble : 0;
    cJSON_Delete(o); /* cJSON does not wipe: the tokens stay in freed heap, as in libcurl's */
    if (!ok)
        return fail_with(f, GW_APPLY_FAILED,
                         "the credentials of the xero integration for tenant %s hold no "
                         "refresh token",
                         tenant);
    return GW_APPLY_DONE;
}

/* Reads the integration row under a lock (the caller's transaction is open) and opens its
 * credentials into t. */
static enum gw_apply_rc read_locked(struct gw_fetch *f, const struct gw_keyring *k,
                                    const char *tenant, struct tokens *t)
{
    struct gw_core_ctx core = core_of(f);
    struct gw_integration row;
    enum gw_core_rc crc = gw_integration_find_locked(&core, "xero", tenant, &row);
    enum gw_apply_rc rc = GW_APPLY_DONE;
    if (crc == GW_CORE_NOT_FOUND)
        rc = fail_with(f, GW_APPLY_FAILED, "no xero integration for tenant %s", tenant);
    else if (crc != GW_CORE_OK)
        rc = db_failed(f);
    else if (strcmp(row.status, "active") != 0)
        rc = fail_with(f, GW_APPLY_FAILED,
                       "the xero integration for tenant %s is %s: reconnect Xero in CanTicket",
                       tenant, row.status[0] ? row.status : "?");
    if (rc != GW_APPLY_DONE) {
        gw_integration_clear(&row);
        return rc;
    }
    t->integration_id = row.id;
    /* The stored spelling (an operator may have typed the GUID in capitals). */
    snprintf(t->external_id, sizeof(t->external_id), "%.*s", (int)sizeof(t->external_id) - 1,
             row.external_id[0] ? row.external_id : tenant);
    if (!row.has_credentials)
        rc = fail_with(f, GW_APPLY_FAILED,
                       "the xero integration for tenant %s has no credentials: run ctgw "
                       "integration set",
                       tenant);
    else
        rc = open_tokens(f, k, tenant, &row, t);
    gw_integration_clear(&row);
    return rc;
}

static enum gw_apply_rc store_locked(struct gw_fetch *f, const struct gw_keyring *k,
                                     uint64_t integration_id, const char *tenant,
                                     const struct tokens *t, const char *previous_refresh)
{
    cJSON *o = cJSON_CreateObject();
    bool ok =
        o != NULL && cJSON_AddStringToObject(o, "refresh_token", t->refresh) != NULL &&
        cJSON_AddStringToObject(o, "access_token", t->access) != NULL &&
        cJSON_AddNumberToObject(o, "access_expires_at", (double)t->access_expires_at) != NULL &&
        cJSON_AddStringToObject(o, "previous_refresh_token", previous_refresh) != NULL &&
        cJSON_AddNumberToObject(o, "refreshed_at", (double)time(NULL)) != NULL;
    char *json = ok ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (json == NULL)
        return fail_with(f, GW_APPLY_RETRY, "out of memory");
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    int rc = gw_credentials_seal(k, "xero", tenant, json, strlen(json), &blob, &blob_len);
    OPENSSL_cleanse(json, strlen(json));
    cJSON_free(json);
    if (rc != 0)
        return fail_with(f, GW_APPLY_RETRY, "cannot seal the new xero credentials");
    struct gw_core_ctx core = core_of(f);
    enum gw_core_rc crc =
        gw_integration_store(&core, integration_id, blob, blob_len, gw_keyring_current_id(k));
    free(blob);
    if (crc != GW_CORE_OK)
        return db_failed(f);
    return GW_APPLY_DONE;
}

static enum gw_apply_rc disconnect_locked(struct gw_fetch *f, const char *tenant,
                                          const struct tokens *t, const uint64_t *siblings,
                                          size_t n_siblings)
{
    struct gw_core_ctx core = core_of(f);
    bool ok = true;
    for (size_t i = 0; i <= n_siblings && ok; i++)
        ok = gw_integration_set_status(&core, i == 0 ? t->integration_id : siblings[i - 1],
                                       "disconnected") == GW_CORE_OK;
    if (!ok || gw_db_commit(f->db) != 0) {
        gw_db_rollback(f->db);
        return db_failed(f);
    }
    /* The alert: an operator or the customer must reconnect Xero. */
    gw_log_error(NULL,
                 "ALERT xero integration %llu (tenant %s) is disconnected: Xero refused its "
                 "refresh token (invalid_grant); reconnect Xero in CanTicket",
                 (unsigned long long)t->integration_id, tenant);
    return fail_with(f, GW_APPLY_FAILED,
                     "the xero integration for tenant %s was disconnected by Xero "
                     "(invalid_grant): reconnect Xero in CanTicket",
                     tenant);
}

/* Percent-encodes a form value (malloc'd). */
static char *form_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t len = strlen(s);
    char *out = malloc(len * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out[n++] = (char)c;
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
    return out;
}

/* POSTs the refresh grant. DONE with t->access/refresh/expiry replaced. */
static enum gw_apply_rc refresh_grant(struct gw_fetch *f, const char *tenant, struct tokens *t,
                                      bool *invalid_grant)
{
    const struct gw_xero_config *xc = gw_xero_config_of(f->endpoint);
    char *enc = form_escape(t->refresh);
    if (enc == NULL)
        return fail_with(f, GW_APPLY_RETRY, "out of memory");
    size_t body_cap = strlen(enc) + 64;
    char *body = malloc(body_cap);
    if (body == NULL) {
        free(enc);
        return fail_with(f, GW_APPLY_RETRY, "out of memory");
    }
    int body_len = snprintf(body, body_cap, "grant_type=refresh_token&refresh_token=%s", enc);
    OPENSSL_cleanse(enc, strlen(enc));
    free(enc);
    static const char *const headers[] = {"Content-Type: application/x-www-form-urlencoded",
                                          "Accept: application/json", NULL};
    struct gw_http_call call = {
        .method = "POST",
        .url = xc->token_url ? xc->token_url : DEFAULT_TOKEN_URL,
        .headers = headers,
        .body = body,
        .body_len = (size_t)body_len,
        .basic_user = xc->client_id,
        .basic_password = xc->client_secret.data,
        .timeout_ms = 15000,
        .max_answer = 64 * 1024,
    };
    struct gw_http_answer a;
    int rc = gw_http_perform(&call, &a);
    OPENSSL_cleanse(body, body_cap);
    free(body);
    if (rc != 0)
        return fail_with(f, a.refused ? GW_APPLY_FAILED : GW_APPLY_RETRY,
                         "xero token endpoint: %s%s", a.error,
                         a.refused ? " (check the endpoint's token_url)" : "");
    cJSON *o = a.body ? cJSON_ParseWithLength(a.body, a.body_len) : NULL;
    enum gw_apply_rc out = GW_APPLY_DONE;
    if (a.status == 200) {
        const cJSON *exp = o ? cJSON_GetObjectItemCaseSensitive(o, "expires_in") : NULL;
        if (!copy_token(t->access, cJSON_GetObjectItemCaseSensitive(o, "access_token")) ||
            !copy_token(t->refresh, cJSON_GetObjectItemCaseSensitive(o, "refresh_token")))
            out = fail_with(f, GW_APPLY_RETRY, "xero token endpoint: answer without tokens");
        else
            t->access_expires_at =
                (int64_t)time(NULL) +
                (cJSON_IsNumber(exp) && exp->valuedouble > 0 && exp->valuedouble < 86400
                     ? (int64_t)exp->valuedouble
                     : 1800);
    } else {
        const cJSON *err = cJSON_GetObjectItemCaseSensitive(o, "error");
        const char *code = cJSON_IsString(err) ? err->valuestring : "";
        *invalid_grant = a.status == 400 && strcmp(code, "invalid_grant") == 0;
        if (a.status == 429)
            f->defer_ms =
                (uint64_t)(a.retry_after_s > 0 ? a.retry_after_s : DEFAULT_429_WAIT_S) * 1000;
        out =
            fail_with(f, a.status == 429 ? GW_APPLY_DEFER : GW_APPLY_RETRY,
                      "xero token endpoint: HTTP %ld %.64s%s", a.status, code,
                      a.status == 401 ? " (check the endpoint's client_id and client_secret)" : "");
    }
    if (a.body != NULL)
        OPENSSL_cleanse(a.body, a.body_len);
    cJSON_Delete(o);
    gw_http_answer_free(&a);
    return out;
}

/* An access token for the tenant: the stored one while it is fresh (and not `stale`, the
 * one the API just refused), else a new one from the refresh grant. The row lock makes two
 * workers (or two ctgw processes) refresh one integration one after the other: the second
 * finds the first one's fresh token. The new refresh token is stored in the transaction
 * that held the old one; if ctgw dies after Xero rotated it but before the commit, the old
 * one stays stored, and Xero accepts it again for 30 minutes. */
#define SIBLINGS_MAX 32

/* The company's other xero integrations that hold this same refresh token: one Xero consent
 * can cover several organisations, and its one token chain is then stored once per tenant.
 * Their rows are locked already (access_token locks the company's xero rows first). */
struct sibling {
    uint64_t id;
    char tenant[256];
};

/* Whether the sibling row's credentials hold the refresh token OWN holds. */
static bool same_consent(const struct gw_keyring *k, const struct gw_integration *row,
                         const struct tokens *own)
{
    char *plain = NULL;
    size_t plain_len = 0;
    if (gw_credentials_open(k, row->key_id, "xero", row->external_id, row->ciphertext,
                            row->ciphertext_len, &plain, &plain_len) != 0)
        return false; /* not openable: not provably the same consent, leave it alone */
    cJSON *o = cJSON_ParseWithLength(plain, plain_len);
    gw_credentials_free(plain, plain_len);
    const cJSON *rt = o ? cJSON_GetObjectItemCaseSensitive(o, "refresh_token") : NULL;
    bool same = rt != NULL && cJSON_IsString(rt) && strcmp(rt->valuestring, own->refresh) == 0;
    if (rt != NULL && cJSON_IsString(rt))
        OPENSSL_cleanse(rt->valuestring, strlen(rt->valuestring));
    cJSON_Delete(o);
    return same;
}

static enum gw_apply_rc find_siblings(struct gw_fetch *f, const struct gw_keyring *k,
                                      const struct tokens *own, struct sibling *out, size_t *n)
{
    *n = 0;
    struct gw_core_ctx core = core_of(f);
    struct gw_integration *rows = calloc(SIBLINGS_MAX, sizeof(*rows));
    size_t n_rows = 0;
    if (rows == NULL)
        return fail_with(f, GW_APPLY_RETRY, "out of memory");
    enum gw_apply_rc rc = GW_APPLY_DONE;
    if (gw_integrations_sealed(&core, "xero", own->integration_id, rows, SIBLINGS_MAX, &n_rows) !=
        GW_CORE_OK)
        rc = db_failed(f);
    for (size_t r = 0; r < n_rows; r++) {
        const char *tenant = rows[r].external_id;
        if (rc == GW_APPLY_DONE && *n < SIBLINGS_MAX && rows[r].has_credentials &&
            strlen(tenant) < sizeof(out->tenant) && same_consent(k, &rows[r], own)) {
            out[*n].id = rows[r].id;
            memcpy(out[*n].tenant, tenant, strlen(tenant) + 1);
            (*n)++;
        }
        gw_integration_clear(&rows[r]);
    }
    free(rows);
    return rc;
}

static enum gw_apply_rc access_token(struct gw_fetch *f, const char *tenant, const char *stale,
                                     struct tokens *t)
{
    char err[256] = "";
    const struct gw_keyring *k = keyring_for(f->cfg, err, sizeof(err));
    if (k == NULL)
        return fail_with(f, GW_APPLY_RETRY, "xero credentials: %s", err);
    if (gw_db_begin(f->db) != 0)
        return fail_with(f, GW_APPLY_RETRY, "database: %s", gw_db_error(f->db));
    /* Every xero row of the company, in id order (no deadlock between two workers): a
     * refresh may have to update the rows that share its consent. */
    struct gw_core_ctx core = core_of(f);
    if (gw_integrations_lock(&core, "xero", SIBLINGS_MAX + 1) != GW_CORE_OK) {
        enum gw_apply_rc failed = db_failed(f);
        gw_db_rollback(f->db);
        return failed;
    }
    enum gw_apply_rc rc = read_locked(f, k, tenant, t);
    if (rc != GW_APPLY_DONE) {
        gw_db_rollback(f->db);
        return rc;
    }
    bool fresh = t->access[0] != '\0' &&
                 t->access_expires_at > (int64_t)time(NULL) + REFRESH_MARGIN_S &&
                 (stale == NULL || strcmp(stale, t->access) != 0);
    if (fresh) {
        gw_db_commit(f->db);
        return GW_APPLY_DONE;
    }
    struct sibling *sib = calloc(SIBLINGS_MAX, sizeof(*sib));
    size_t n_sib = 0;
    if (sib == NULL) {
        gw_db_rollback(f->db);
        return fail_with(f, GW_APPLY_RETRY, "out of memory");
    }
    rc = find_siblings(f, k, t, sib, &n_sib);
    char previous[TOKEN_MAX + 1];
    memcpy(previous, t->refresh, sizeof(previous));
    bool invalid_grant = false;
    if (rc == GW_APPLY_DONE)
        rc = refresh_grant(f, tenant, t, &invalid_grant);
    if (rc == GW_APPLY_DONE)
        rc = store_locked(f, k, t->integration_id, t->external_id, t, previous);
    for (size_t i = 0; i < n_sib && rc == GW_APPLY_DONE; i++)
        rc = store_locked(f, k, sib[i].id, sib[i].tenant, t, previous);
    OPENSSL_cleanse(previous, sizeof(previous));
    uint64_t sib_ids[SIBLINGS_MAX];
    for (size_t i = 0; i < n_sib; i++)
        sib_ids[i] = sib[i].id;
    free(sib);
    if (rc == GW_APPLY_DONE) {
        if (gw_db_commit(f->db) != 0) {
            gw_db_rollback(f->db);
            return fail_with(f, GW_APPLY_RETRY, "database: %s", gw_db_error(f->db));
        }
        gw_log_info(NULL, "xero integration %llu: access token refreshed",
                    (unsigned long long)t->integration_id);
        return GW_APPLY_DONE;
    }
    if (invalid_grant)
        return disconnect_locked(f, tenant, t, sib_ids, n_sib);
    gw_db_rollback(f->db);
    return rc;
}

/* ------------------------------------------------------------------ GET */

enum gw_apply_rc gw_xero_get(struct gw_fetch *f, const char *tenant_id, const char *collection,
                             const char *id, char **json)
{
    *json = NULL;
    const struct gw_endpoint_config *ep = f->endpoint;
    const struct gw_xero_config *xc = gw_xero_config_of(ep);
    if (xc->client_id == NULL || xc->client_secret.data == NULL)
        return fail_with(f, GW_APPLY_FAILED,
                         "endpoint %s has no client_id and client_secret for Xero's API", ep->id);
    unsigned per_minute = xc->calls_per_minute ? xc->calls_per_minute : DEFAULT_PER_MINUTE;
    char url[2048];
    int n = snprintf(url, sizeof(url), "%s/%s/%s", xc->api_base ? xc->api_base : DEFAULT_API_BASE,
                     collection, id);
    if (n < 0 || (size_t)n >= sizeof(url))
        return fail_with(f, GW_APPLY_FAILED, "api_base is too long");
    struct tokens *t = calloc(1, sizeof(*t));
    if (t == NULL)
        return fail_with(f, GW_APPLY_RETRY, "out of memory");
    enum gw_apply_rc rc = access_token(f, tenant_id, NULL, t);
    for (int round = 0; rc == GW_APPLY_DONE && round < 2; round++) {
        uint64_t wait_ms = 0;
        if (!budget_take(tenant_id, per_minute, &wait_ms)) {
            f->defer_ms = wait_ms;
            rc = fail_with(f, GW_APPLY_DEFER,
                           "over the budget of %u Xero calls a minute for "
                           "tenant %s",
                           per_minute, tenant_id);
            break;
        }
        char auth[TOKEN_MAX + 32], tenant_hdr[128];
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", t->access);
        snprintf(tenant_hdr, sizeof(tenant_hdr), "xero-tenant-id: %s", tenant_id);
        const char *headers[] = {auth, tenant_hdr, "Accept: application/json", NULL};
        struct gw_http_call call = {.method = "GET", .url = url, .headers = headers};
        struct gw_http_answer a;
        int prc = gw_http_perform(&call, &a);
        OPENSSL_cleanse(auth, sizeof(auth));
        if (prc != 0) {
            rc =
                fail_with(f, a.refused ? GW_APPLY_FAILED : GW_APPLY_RETRY, "xero %s: %s%s",
                          collection, a.error, a.refused ? " (check the endpoint's api_base)" : "");
        } else if (a.status == 200 && !a.too_large) {
            *json = a.body;
            a.body = NULL;
            rc = GW_APPLY_DONE;
            gw_http_answer_free(&a);
            break;
        } else if (a.status == 401 && round == 0) {
            /* Revoked or expired early: refresh once, then ask again. */
            char stale[TOKEN_MAX + 1];
            memcpy(stale, t->access, sizeof(stale));
            rc = access_token(f, tenant_id, stale, t);
            OPENSSL_cleanse(stale, sizeof(stale));
            gw_http_answer_free(&a);
            continue;
        } else if (a.status == 429) {
            f->defer_ms =
                (uint64_t)(a.retry_after_s > 0 ? a.retry_after_s : DEFAULT_429_WAIT_S) * 1000;
            rc = fail_with(f, GW_APPLY_DEFER, "xero %s: HTTP 429, retry after %llu s", collection,
                           (unsigned long long)(f->defer_ms / 1000));
        } else if (a.status == 404) {
            rc = fail_with(f, GW_APPLY_FAILED, "xero %s/%s: not found (HTTP 404)", collection, id);
        } else if (a.status >= 500 || a.status == 401 || a.status == 408 || a.too_large) {
            rc = fail_with(f, GW_APPLY_RETRY, "xero %s: HTTP %ld%s", collection, a.status,
                           a.too_large ? ", answer too large" : "");
        } else {
            rc = fail_with(f, GW_APPLY_FAILED, "xero %s: HTTP %ld", collection, a.status);
        }
        gw_http_answer_free(&a);
        break;
    }
    tokens_clear(t);
    free(t);
    return rc;
}
