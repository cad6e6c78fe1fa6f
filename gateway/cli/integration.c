/* cli_integration.c — `ctgw integration set` and `ctgw rekey`: the operator's way to connect
 * an account to a company with a sealed refresh token, and to move every sealed credential
 * to the current key after a rotation. No token or key ever reaches the output. */
#include "gateway/cli/integration.h"

#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/provider.h"
#include "config/secret_ref.h"
#include "gateway/core/credentials.h"
#include "gateway/core/jobs.h"
#include "gateway/db/db.h"

#define TOKEN_MAX       4096 /* a refresh token longer than this is not one */
#define EXTERNAL_ID_MAX 255  /* integrations.external_id */
#define SLUG_MAX        64   /* companies.slug */
#define REKEY_PAGE      500  /* rows listed per query; each is then locked on its own */
#define MSG_MAX         512

enum { OPT_COMPANY = 256, OPT_PROVIDER, OPT_EXTERNAL_ID, OPT_TOKEN_FILE, OPT_STATUS };

static const struct option set_options[] = {
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {"company", required_argument, NULL, OPT_COMPANY},
    {"provider", required_argument, NULL, OPT_PROVIDER},
    {"external-id", required_argument, NULL, OPT_EXTERNAL_ID},
    {"refresh-token-file", required_argument, NULL, OPT_TOKEN_FILE},
    {"status", required_argument, NULL, OPT_STATUS},
    {NULL, 0, NULL, 0},
};

static void set_usage(FILE *f)
{
    fprintf(f, "usage: ctgw integration set -c FILE --company SLUG --provider NAME "
               "--external-id ID\n"
               "                            [--refresh-token-file F]\n"
               "                            [--status active|disabled|disconnected]\n"
               "Creates or updates the integration (provider, external id) of a company. With\n"
               "--refresh-token-file, the token in F (a private file) is sealed with the\n"
               "config's secrets_key and stored; it is never printed.\n");
}

bool gw_cli_slug_valid(const char *s)
{
    size_t n = 0;

    for (; s[n] != '\0'; n++) {
        char c = s[n];
        bool ok =
            (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (n > 0 && (c == '-' || c == '_'));
        if (!ok || n >= SLUG_MAX)
            return false;
    }
    return n > 0;
}

/* Printable, no surrounding space: the id is bound into each ciphertext byte for byte, and
 * the column's collation would match it with or without trailing spaces. */
static bool external_id_ok(const char *s)
{
    size_t n = strnlen(s, EXTERNAL_ID_MAX + 1);

    if (n == 0 || n > EXTERNAL_ID_MAX || s[0] == ' ' || s[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static bool status_ok(const char *s)
{
    return strcmp(s, "active") == 0 || strcmp(s, "disabled") == 0 || strcmp(s, "disconnected") == 0;
}

int gw_integration_parse(int argc, char **argv, struct gw_integration_args *a, FILE *out, FILE *err)
{
    memset(a, 0, sizeof *a);
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
                      strcmp(argv[1], "help") == 0)) {
        set_usage(out);
        return GW_INTEGRATION_HELP;
    }
    if (argc < 2 || strcmp(argv[1], "set") != 0) {
        fprintf(err, "ctgw integration: expected the subcommand 'set'\n");
        set_usage(err);
        return GW_INTEGRATION_USAGE;
    }

    /* Options start after "set"; GNU getopt restarts with optind 0 (tests call this twice). */
    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "+c:h", set_options, NULL)) != -1) {
        switch (ch) {
        case 'c':
            a->config = optarg;
            break;
        case 'h':
            set_usage(out);
            return GW_INTEGRATION_HELP;
        case OPT_COMPANY:
            a->company = optarg;
            break;
        case OPT_PROVIDER:
            a->provider = optarg;
            break;
        case OPT_EXTERNAL_ID:
            a->external_id = optarg;
            break;
        case OPT_TOKEN_FILE:
            a->refresh_token_file = optarg;
            break;
        case OPT_STATUS:
            a->status = optarg;
            break;
        default:
            fprintf(err, "ctgw integration set: unknown option or missing value: %.100s\n",
                    optind >= 1 && optind <= argc - 1 ? argv[optind] : "?");
            set_usage(err);
            return GW_INTEGRATION_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(err, "ctgw integration set: unexpected argument: %.100s\n", argv[1 + optind]);
        return GW_INTEGRATION_USAGE;
    }
    if (a->config == NULL || a->company == NULL || a->provider == NULL || a->external_id == NULL) {
        fprintf(err, "ctgw integration set: -c, --company, --provider and --external-id are "
                     "required\n");
        set_usage(err);
        return GW_INTEGRATION_USAGE;
    }
    if (!gw_cli_slug_valid(a->company)) {
        fprintf(err, "ctgw integration set: --company: expected a slug matching "
                     "[a-z0-9][a-z0-9_-]{0,63}\n");
        return GW_INTEGRATION_USAGE;
    }
    if (gw_provider_find(a->provider) == NULL) {
        char names[512];
        gw_provider_names(names, sizeof names);
        fprintf(err, "ctgw integration set: --provider: unknown provider '%.64s' (known: %s)\n",
                a->provider, names);
        return GW_INTEGRATION_USAGE;
    }
    if (!external_id_ok(a->external_id)) {
        fprintf(err,
                "ctgw integration set: --external-id: expected 1 to %d printable "
                "characters without surrounding spaces\n",
                EXTERNAL_ID_MAX);
        return GW_INTEGRATION_USAGE;
    }
    if (a->status != NULL && !status_ok(a->status)) {
        fprintf(err, "ctgw integration set: --status: expected active, disabled or "
                     "disconnected\n");
        return GW_INTEGRATION_USAGE;
    }
    return GW_INTEGRATION_RUN;
}

/* Reads the refresh token from PATH through the same checks as a `file:` secret (a private
 * regular file, bounded) and writes {"refresh_token":"..."} into *json (malloc'd; the caller
 * wipes and frees it with gw_credentials_free). */
static int read_token_json(const char *path, char **json, size_t *json_len, char *msg,
                           size_t msg_len)
{
    struct gw_secret s = {0};
    char ref[PATH_MAX + 8];
    char why[600];
    const char *t;
    size_t n;
    char *buf = NULL;
    size_t used = 0;
    int rc = -1;

    *json = NULL;
    *json_len = 0;
    int w = snprintf(ref, sizeof ref, "file:%s", path);
    if (w < 0 || (size_t)w >= sizeof ref) {
        snprintf(msg, msg_len, "--refresh-token-file: path is too long");
        return -1;
    }
    if (gw_secret_ref_load(ref, GW_REF_FILE | GW_REF_PRIVATE, NULL, &s, why, sizeof why) < 0) {
        snprintf(msg, msg_len, "--refresh-token-file: %.300s", why);
        return -1;
    }
    t = s.data;
    n = s.len;
    while (n > 0 && (*t == ' ' || *t == '\t' || *t == '\r' || *t == '\n')) {
        t++;
        n--;
    }
    while (n > 0 && (t[n - 1] == ' ' || t[n - 1] == '\t' || t[n - 1] == '\r' || t[n - 1] == '\n'))
        n--;
    if (n == 0) {
        snprintf(msg, msg_len, "--refresh-token-file: the file holds only whitespace");
        goto done;
    }
    if (n > TOKEN_MAX) {
        snprintf(msg, msg_len, "--refresh-token-file: the token is longer than %d bytes (%zu)",
                 TOKEN_MAX, n);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c < 0x20 || c > 0x7e) {
            snprintf(msg, msg_len,
                     "--refresh-token-file: the token must be one line of printable ASCII");
            goto done;
        }
    }
    /* The token is printable ASCII, so only '"' and '\\' need escaping. */
    static const char head[] = "{\"refresh_token\":\"";
    static const char tail[] = "\"}";
    size_t cap = sizeof head + 2 * n + sizeof tail;
    buf = malloc(cap);
    if (buf == NULL) {
        snprintf(msg, msg_len, "out of memory");
        goto done;
    }
    memcpy(buf, head, sizeof head - 1);
    used = sizeof head - 1;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == '"' || t[i] == '\\')
            buf[used++] = '\\';
        buf[used++] = t[i];
    }
    memcpy(buf + used, tail, sizeof tail); /* with its NUL */
    used += sizeof tail - 1;
    *json = buf;
    *json_len = used;
    buf = NULL;
    rc = 0;
done:
    gw_secret_wipe(&s);
    return rc;
}

static struct gw_db *connect_db(const struct gw_config *cfg, const char *who, FILE *err)
{
    struct gw_db *db = gw_db_open(&cfg->database);

    if (db == NULL) {
        fprintf(err, "%s: out of memory\n", who);
        return NULL;
    }
    if (gw_db_ensure(db) != 0) {
        fprintf(err, "%s: cannot connect to the database: %s\n", who, gw_db_error(db));
        gw_db_close(db);
        return NULL;
    }
    return db;
}

/* A copy of column C of row 0, or "" for NULL, into BUF. */
static void copy_text(const struct gw_db_rows *rows, size_t c, char *buf, size_t len)
{
    const char *s = gw_db_rows_text(rows, 0, c, NULL);
    snprintf(buf, len, "%s", s != NULL ? s : "");
}

/* What the row looks like once locked. */
struct row {
    uint64_t id;
    uint64_t company_id;
    char provider[32 * 4 + 1];                 /* VARCHAR(32) in utf8mb4 */
    char external_id[EXTERNAL_ID_MAX * 4 + 1]; /* VARCHAR(255) in utf8mb4 */
    char status[16];
    char key_id[72];
    bool has_credentials;
};

enum outcome { CREATED, UPDATED, UNCHANGED };

static int db_failed(struct gw_db *db, char *msg, size_t msg_len)
{
    snprintf(msg, msg_len, "database: %s", gw_db_error(db));
    return -1;
}

static int find_company(struct gw_db *db, const char *slug, uint64_t *company_id, char *msg,
                        size_t msg_len)
{
    enum gw_core_rc rc = gw_company_find(db, slug, company_id);
    if (rc == GW_CORE_OK)
        return 0;
    if (rc == GW_CORE_NOT_FOUND) {
        snprintf(msg, msg_len, "unknown company '%s'", slug);
        return -1;
    }
    return db_failed(db, msg, msg_len);
}

/* Locks the row (provider, external_id), whatever company holds it, and reads it into R;
 * a row that does not exist yet is described as it will be created. */
static int lock_row(struct gw_db *db, const struct gw_integration_args *a, struct row *r, char *msg,
                    size_t msg_len)
{
    struct gw_db_value p[] = {GW_DB_TEXT(a->provider), GW_DB_TEXT(a->external_id)};
    struct gw_db_rows *rows =
        gw_db_query(db,
                    "SELECT id, company_id, provider, external_id, status, credentials_key_id, "
                    "credentials_ciphertext IS NOT NULL FROM integrations WHERE provider = ? "
                    "AND external_id = ? FOR UPDATE",
                    p, 2, 1);
    if (rows == NULL)
        return db_failed(db, msg, msg_len);
    if (gw_db_rows_count(rows) == 1) {
        r->id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
        r->company_id = (uint64_t)gw_db_rows_int(rows, 0, 1, 0);
        copy_text(rows, 2, r->provider, sizeof r->provider);
        copy_text(rows, 3, r->external_id, sizeof r->external_id);
        copy_text(rows, 4, r->status, sizeof r->status);
        copy_text(rows, 5, r->key_id, sizeof r->key_id);
        r->has_credentials = gw_db_rows_int(rows, 0, 6, 0) == 1;
    } else {
        snprintf(r->provider, sizeof r->provider, "%s", a->provider);
        snprintf(r->external_id, sizeof r->external_id, "%s", a->external_id);
        snprintf(r->status, sizeof r->status, "%s", a->status != NULL ? a->status : "active");
    }
    gw_db_rows_free(rows);
    return 0;
}

/* Refuses to move an existing row to another company, naming the one that holds it. */
static int same_company(struct gw_db *db, const struct gw_integration_args *a, const struct row *r,
                        uint64_t company_id, char *msg, size_t msg_len)
{
    if (r->id == 0 || r->company_id == company_id)
        return 0;
    char other[SLUG_MAX + 1] = "?";
    struct gw_db_value p[] = {GW_DB_INT(r->company_id)};
    struct gw_db_rows *rows = gw_db_query(db, "SELECT slug FROM companies WHERE id = ?", p, 1, 1);
    if (rows != NULL && gw_db_rows_count(rows) == 1)
        copy_text(rows, 0, other, sizeof other);
    gw_db_rows_free(rows);
    snprintf(msg, msg_len,
             "%.32s account '%.255s' is connected to company '%.64s', not '%.64s'; refusing "
             "to move it (integration %llu)",
             r->provider, r->external_id, other, a->company, (unsigned long long)r->id);
    return -1;
}

/* What gets written: the sealed credentials, when a token was given. */
struct sealed {
    unsigned char *blob; /* NULL: credentials left as they are */
    size_t len;
    const char *key_id;
};

static int64_t insert_row(struct gw_db *db, uint64_t company_id, const struct row *r,
                          const struct sealed *s)
{
    struct gw_db_value p[] = {GW_DB_INT(company_id),
                              GW_DB_TEXT(r->provider),
                              GW_DB_TEXT(r->external_id),
                              GW_DB_TEXT(r->status),
                              s->blob ? GW_DB_BLOB(s->blob, s->len) : GW_DB_NULL,
                              s->blob ? GW_DB_TEXT(s->key_id) : GW_DB_NULL};
    if (s->blob != NULL)
        return gw_db_exec(db,
                          "INSERT INTO integrations (company_id, provider, external_id, status, "
                          "credentials_ciphertext, credentials_key_id, credentials_updated_at) "
                          "VALUES (?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))",
                          p, 6);
    return gw_db_exec(db,
                      "INSERT INTO integrations (company_id, provider, external_id, status) "
                      "VALUES (?, ?, ?, ?)",
                      p, 4);
}

static int64_t update_row(struct gw_db *db, uint64_t company_id, const struct row *r,
                          const struct sealed *s)
{
    if (s->blob != NULL) {
        struct gw_db_value p[] = {GW_DB_TEXT(r->status), GW_DB_BLOB(s->blob, s->len),
                                  GW_DB_TEXT(s->key_id), GW_DB_INT(r->id), GW_DB_INT(company_id)};
        return gw_db_exec(db,
                          "UPDATE integrations SET status = ?, credentials_ciphertext = ?, "
                          "credentials_key_id = ?, credentials_updated_at = UTC_TIMESTAMP(3) "
                          "WHERE id = ? AND company_id = ?",
                          p, 5);
    }
    struct gw_db_value p[] = {GW_DB_TEXT(r->status), GW_DB_INT(r->id), GW_DB_INT(company_id)};
    return gw_db_exec(db, "UPDATE integrations SET status = ? WHERE id = ? AND company_id = ?", p,
                      3);
}

/* Inserts the row or updates it with what was asked; *done says which. */
static int write_row(struct gw_db *db, const struct gw_integration_args *a, uint64_t company_id,
                     struct row *r, const struct sealed *s, enum outcome *done, char *msg,
                     size_t msg_len)
{
    int64_t n;
    if (r->id == 0) {
        n = insert_row(db, company_id, r, s);
        r->id = gw_db_last_insert_id(db);
        *done = CREATED;
    } else {
        if (a->status != NULL)
            snprintf(r->status, sizeof r->status, "%s", a->status);
        n = update_row(db, company_id, r, s);
        *done = UPDATED;
    }
    if (n >= 0)
        return 0;
    unsigned e = gw_db_errno(db);
    if (e == 1062 || e == 1213) /* duplicate key, deadlock: a concurrent set */
        snprintf(msg, msg_len,
                 "another writer changed this integration at the same time; "
                 "run the command again");
    else
        db_failed(db, msg, msg_len);
    return -1;
}

/* The transaction of `integration set`; *done tells what happened. Returns 0, or -1 with a
 * message in MSG (the transaction is then rolled back by the caller). */
static int upsert(struct gw_db *db, const struct gw_integration_args *a,
                  const struct gw_keyring *keys, const char *json, size_t json_len, struct row *r,
                  enum outcome *done, char *msg, size_t msg_len)
{
    struct sealed s = {.key_id = keys != NULL ? gw_keyring_current_id(keys) : NULL};
    uint64_t company_id = 0;
    int rc = -1;

    memset(r, 0, sizeof *r);
    *done = UNCHANGED;
    if (find_company(db, a->company, &company_id, msg, msg_len) < 0 ||
        lock_row(db, a, r, msg, msg_len) < 0 ||
        same_company(db, a, r, company_id, msg, msg_len) < 0)
        goto done;
    /* Sealed for the names as the row stores them: the column's collation may have matched
     * a spelling that differs in case, and the adapter opens with the stored one. */
    if (json != NULL && gw_credentials_seal(keys, r->provider, r->external_id, json, json_len,
                                            &s.blob, &s.len) < 0) {
        snprintf(msg, msg_len, "cannot seal the credentials (OpenSSL failed)");
        goto done;
    }
    if (r->id != 0 && a->status == NULL && s.blob == NULL) {
        rc = 0; /* nothing asked for but the company check */
        goto done;
    }
    if (write_row(db, a, company_id, r, &s, done, msg, msg_len) < 0)
        goto done;
    if (s.blob != NULL) {
        r->has_credentials = true;
        snprintf(r->key_id, sizeof r->key_id, "%s", s.key_id);
    }
    rc = 0;
done:
    free(s.blob); /* ciphertext: nothing to wipe */
    return rc;
}

int gw_integration_set(const struct gw_config *cfg, const struct gw_integration_args *a, FILE *out,
                       FILE *err)
{
    static const char who[] = "ctgw integration set";
    struct gw_keyring *keys = NULL;
    struct gw_db *db = NULL;
    char *json = NULL;
    size_t json_len = 0;
    char msg[MSG_MAX];
    struct row r;
    enum outcome outcome = UNCHANGED;
    int rc = 1;

    /* Everything that needs no database is checked first, so a bad key or token file
     * changes nothing. */
    if (a->refresh_token_file != NULL) {
        keys = gw_keyring_from_config(cfg, msg, sizeof msg);
        if (keys == NULL) {
            fprintf(err, "%s: %s\n", who, msg);
            goto done;
        }
        if (read_token_json(a->refresh_token_file, &json, &json_len, msg, sizeof msg) < 0) {
            fprintf(err, "%s: %s\n", who, msg);
            goto done;
        }
    }
    db = connect_db(cfg, who, err);
    if (db == NULL)
        goto done;
    if (gw_db_begin(db) != 0) {
        fprintf(err, "%s: database: %s\n", who, gw_db_error(db));
        goto done;
    }
    if (upsert(db, a, keys, json, json_len, &r, &outcome, msg, sizeof msg) < 0) {
        gw_db_rollback(db);
        fprintf(err, "%s: %s\n", who, msg);
        goto done;
    }
    if (gw_db_commit(db) != 0) {
        fprintf(err, "%s: database: commit failed: %s\n", who, gw_db_error(db));
        goto done;
    }

    char creds[128];
    if (json != NULL)
        snprintf(creds, sizeof creds, "refresh token sealed with key %s", r.key_id);
    else if (r.has_credentials)
        snprintf(creds, sizeof creds, "credentials unchanged (key %.64s)", r.key_id);
    else
        snprintf(creds, sizeof creds, "no credentials");
    fprintf(out, "%s integration %llu: %s '%s' for company '%s', status %s, %s\n",
            outcome == CREATED   ? "created"
            : outcome == UPDATED ? "updated"
                                 : "unchanged",
            (unsigned long long)r.id, r.provider, r.external_id, a->company, r.status, creds);
    rc = 0;
done:
    gw_credentials_free(json, json_len);
    gw_db_close(db);
    gw_keyring_free(keys);
    return rc;
}

struct rekey_counts {
    unsigned long long rekeyed, current, failed;
};

/* What became of one row. */
enum rekeyed { REKEYED, CURRENT, GONE, FAILED };

/* Whether the row's key id lets it be re-sealed: CURRENT when it already names the current
 * key, FAILED (WHY says so) when no configured key has it, REKEYED when it can go on. */
static enum rekeyed check_key_id(const struct gw_keyring *keys, const char *key_id, char *why,
                                 size_t why_len)
{
    if (key_id != NULL && strcmp(key_id, gw_keyring_current_id(keys)) == 0)
        return CURRENT; /* re-sealed meanwhile, by a worker or another rekey */
    if (key_id == NULL || key_id[0] == '\0') {
        snprintf(why, why_len, "credentials without a key id");
        return FAILED;
    }
    if (!gw_keyring_has(keys, key_id)) {
        snprintf(why, why_len,
                 "sealed under key %.64s, which is neither secrets_key nor in "
                 "previous_secrets_keys",
                 key_id);
        return FAILED;
    }
    return REKEYED;
}

/* Opens the ciphertext under KEY_ID and seals it again under the current key into *BLOB. */
static int reseal(const struct gw_keyring *keys, const struct row *r, const char *key_id,
                  const unsigned char *ct, size_t ct_len, unsigned char **blob, size_t *blob_len,
                  char *why, size_t why_len)
{
    char *plain = NULL;
    size_t plain_len = 0;
    int rc = -1;
    if (gw_credentials_open(keys, key_id, r->provider, r->external_id, ct, ct_len, &plain,
                            &plain_len) < 0)
        snprintf(why, why_len,
                 "does not open under key %.64s (a different key with that id, a tampered "
                 "ciphertext, or one copied from another row)",
                 key_id);
    else if (gw_credentials_seal(keys, r->provider, r->external_id, plain, plain_len, blob,
                                 blob_len) < 0)
        snprintf(why, why_len, "cannot seal under the current key (OpenSSL failed)");
    else
        rc = 0;
    gw_credentials_free(plain, plain_len);
    return rc;
}

/* Re-seals the locked row read into ROWS (company_id, provider, external_id, key id,
 * ciphertext) and stores it, in the open transaction. */
static enum rekeyed rekey_read_row(struct gw_db *db, const struct gw_keyring *keys,
                                   const struct gw_db_rows *rows, struct row *r, char *why,
                                   size_t why_len)
{
    size_t ct_len = 0;
    const char *ct = gw_db_rows_count(rows) == 1 ? gw_db_rows_text(rows, 0, 4, &ct_len) : NULL;
    if (ct == NULL)
        return GONE; /* deleted, or its credentials cleared, since the list was read */
    r->company_id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
    copy_text(rows, 1, r->provider, sizeof r->provider);
    copy_text(rows, 2, r->external_id, sizeof r->external_id);
    const char *key_id = gw_db_rows_text(rows, 0, 3, NULL);
    enum rekeyed res = check_key_id(keys, key_id, why, why_len);
    unsigned char *blob = NULL;
    size_t blob_len = 0;
    if (res == REKEYED && reseal(keys, r, key_id, (const unsigned char *)ct, ct_len, &blob,
                                 &blob_len, why, why_len) < 0)
        res = FAILED;
    if (res == REKEYED) {
        /* credentials_updated_at says when the tokens changed; re-sealing does not change
         * them. */
        struct gw_db_value p[] = {GW_DB_BLOB(blob, blob_len),
                                  GW_DB_TEXT(gw_keyring_current_id(keys)), GW_DB_INT(r->id),
                                  GW_DB_INT(r->company_id)};
        if (gw_db_exec(db,
                       "UPDATE integrations SET credentials_ciphertext = ?, credentials_key_id = ? "
                       "WHERE id = ? AND company_id = ?",
                       p, 4) != 1) {
            db_failed(db, why, why_len);
            res = FAILED;
        }
    }
    free(blob);
    return res;
}

/* Locks row R->id and re-seals it, in the open transaction. */
static enum rekeyed rekey_locked(struct gw_db *db, const struct gw_keyring *keys, struct row *r,
                                 char *why, size_t why_len)
{
    struct gw_db_value p[] = {GW_DB_INT(r->id)};
    struct gw_db_rows *rows =
        gw_db_query(db,
                    "SELECT company_id, provider, external_id, credentials_key_id, "
                    "credentials_ciphertext FROM integrations WHERE id = ? FOR UPDATE",
                    p, 1, 1);
    if (rows == NULL) {
        db_failed(db, why, why_len);
        return FAILED;
    }
    enum rekeyed res = rekey_read_row(db, keys, rows, r, why, why_len);
    gw_db_rows_free(rows);
    return res;
}

/* Re-seals row ID in its own transaction and counts the outcome in C; a failure is printed
 * to ERR with the row and why (never the plaintext). */
static void rekey_row(struct gw_db *db, const struct gw_keyring *keys, uint64_t id,
                      struct rekey_counts *c, FILE *err)
{
    char why[MSG_MAX] = "";
    struct row r = {.id = id};
    enum rekeyed res = FAILED;

    if (gw_db_begin(db) != 0)
        db_failed(db, why, sizeof why);
    else if ((res = rekey_locked(db, keys, &r, why, sizeof why)) != REKEYED)
        gw_db_rollback(db);
    else if (gw_db_commit(db) != 0) {
        snprintf(why, sizeof why, "database: commit failed: %s", gw_db_error(db));
        res = FAILED;
    }
    c->rekeyed += res == REKEYED;
    c->current += res == CURRENT;
    c->failed += res == FAILED;
    if (res != FAILED)
        return;
    if (r.provider[0] != '\0')
        fprintf(err, "integration %llu (%s '%s'): %s\n", (unsigned long long)id, r.provider,
                r.external_id, why);
    else
        fprintf(err, "integration %llu: %s\n", (unsigned long long)id, why);
}

int gw_rekey(const struct gw_config *cfg, FILE *out, FILE *err)
{
    static const char who[] = "ctgw rekey";
    struct rekey_counts c = {0};
    struct gw_keyring *keys;
    struct gw_db *db = NULL;
    struct gw_db_value p[3];
    struct gw_db_rows *rows;
    char msg[MSG_MAX];
    uint64_t last = 0;
    int rc = 1;

    keys = gw_keyring_from_config(cfg, msg, sizeof msg);
    if (keys == NULL) {
        fprintf(err, "%s: %s\n", who, msg);
        return 1;
    }
    const char *current = gw_keyring_current_id(keys);
    db = connect_db(cfg, who, err);
    if (db == NULL)
        goto done;

    p[0] = GW_DB_TEXT(current);
    rows = gw_db_query(db,
                       "SELECT COUNT(*) FROM integrations WHERE credentials_ciphertext IS NOT "
                       "NULL AND credentials_key_id = ?",
                       p, 1, 1);
    if (rows == NULL) {
        fprintf(err, "%s: database: %s\n", who, gw_db_error(db));
        goto done;
    }
    c.current = (unsigned long long)gw_db_rows_int(rows, 0, 0, 0);
    gw_db_rows_free(rows);

    /* Listed a page at a time in id order, each row then locked on its own: a worker waits
     * for one row at most, and a row that fails is not listed again. */
    for (;;) {
        p[0] = GW_DB_INT(last);
        p[1] = GW_DB_TEXT(current);
        p[2] = GW_DB_INT(REKEY_PAGE);
        rows = gw_db_query(db,
                           "SELECT id FROM integrations WHERE id > ? AND credentials_ciphertext "
                           "IS NOT NULL AND (credentials_key_id IS NULL OR credentials_key_id "
                           "<> ?) ORDER BY id LIMIT ?",
                           p, 3, REKEY_PAGE);
        if (rows == NULL) {
            fprintf(err, "%s: stopped: database: %s\n", who, gw_db_error(db));
            c.failed++;
            break;
        }
        size_t n = gw_db_rows_count(rows);
        for (size_t i = 0; i < n; i++) {
            last = (uint64_t)gw_db_rows_int(rows, i, 0, 0);
            rekey_row(db, keys, last, &c, err);
        }
        gw_db_rows_free(rows);
        if (n < REKEY_PAGE)
            break;
    }
    fprintf(out, "rekey to %s: %llu rekeyed, %llu already current, %llu failed\n", current,
            c.rekeyed, c.current, c.failed);
    rc = c.failed == 0 ? 0 : 1;
done:
    gw_db_close(db);
    gw_keyring_free(keys);
    return rc;
}
