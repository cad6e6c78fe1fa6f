/* mail_pipe.c — `ctgw mail-pipe`: reads one message from standard input and stores it in the
 * inbox for the workers, answering the MTA with a sysexits status. */
#include "gateway/cli/mail_pipe.h"

#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "adapters/mail/envelope.h"
#include "adapters/provider.h"
#include "gateway/base/hash.h"
#include "gateway/core/tenants.h"
#include "gateway/db/db.h"
#include "gateway/db/inbox.h"

#define READ_CHUNK (64u * 1024u)

enum { OPT_ENDPOINT = 256, OPT_RECIPIENT };

static const struct option options[] = {
    {"config", required_argument, NULL, 'c'},
    {"help", no_argument, NULL, 'h'},
    {"endpoint", required_argument, NULL, OPT_ENDPOINT},
    {"recipient", required_argument, NULL, OPT_RECIPIENT},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: ctgw mail-pipe -c FILE --endpoint ID [--recipient ADDR] < MESSAGE\n"
               "Stores one e-mail message from standard input for the email-mime endpoint ID;\n"
               "a running ctgw applies it. ADDR is the envelope recipient. Exit 0 once stored,\n"
               "75 when it cannot be stored now (try again), 65 when the message is refused.\n");
}

int gw_mail_pipe_parse(int argc, char **argv, struct gw_mail_pipe_args *a, FILE *out, FILE *err)
{
    memset(a, 0, sizeof *a);
    optind = 0;
    opterr = 0;
    int ch;
    while ((ch = getopt_long(argc, argv, "+c:h", options, NULL)) != -1) {
        switch (ch) {
        case 'c':
            a->config = optarg;
            break;
        case 'h':
            usage(out);
            return GW_MAIL_PIPE_HELP;
        case OPT_ENDPOINT:
            a->endpoint = optarg;
            break;
        case OPT_RECIPIENT:
            a->recipient = optarg;
            break;
        default:
            fprintf(err, "ctgw mail-pipe: unknown option or missing value: %.100s\n",
                    optind >= 1 && optind <= argc ? argv[optind - 1] : "?");
            usage(err);
            return GW_MAIL_PIPE_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(err, "ctgw mail-pipe: unexpected argument: %.100s\n", argv[optind]);
        return GW_MAIL_PIPE_USAGE;
    }
    if (a->config == NULL || a->endpoint == NULL) {
        fprintf(err, "ctgw mail-pipe: -c and --endpoint are required\n");
        usage(err);
        return GW_MAIL_PIPE_USAGE;
    }
    char clean[GW_MAIL_RECIPIENT_SIZE];
    /* Postfix passes an empty ${original_recipient} for some bounces: that is no recipient. */
    if (a->recipient != NULL && a->recipient[0] == '\0')
        a->recipient = NULL;
    if (a->recipient != NULL && !gw_mail_recipient_clean(a->recipient, clean)) {
        fprintf(err, "ctgw mail-pipe: --recipient: expected one e-mail address\n");
        return GW_MAIL_PIPE_USAGE;
    }
    return GW_MAIL_PIPE_RUN;
}

/* The whole of IN, at most MAX bytes, into *OUT (caller frees). 0; 1 when there was more;
 * -1 on a read error or out of memory. */
static int read_all(FILE *in, size_t max, unsigned char **out, size_t *len)
{
    size_t cap = 0, n = 0;
    unsigned char *buf = NULL;
    *out = NULL;
    *len = 0;
    for (;;) {
        if (n == cap) {
            size_t next = cap == 0 ? READ_CHUNK : cap * 2;
            if (next > max + 1)
                next = max + 1;
            unsigned char *grown = realloc(buf, next + 1);
            if (grown == NULL) {
                free(buf);
                return -1;
            }
            buf = grown;
            cap = next;
        }
        size_t got = fread(buf + n, 1, cap - n, in);
        n += got;
        if (n > max) {
            free(buf);
            return 1;
        }
        if (got == 0)
            break;
    }
    if (ferror(in)) {
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

static uint64_t batch_token(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
    v &= (uint64_t)INT64_MAX; /* parameters travel as signed 64-bit */
    return v ? v : 1;
}

/* {"x-original-to": RECIPIENT}, as a POST with that header stores it; NULL without one. */
static char *stored_headers(const char *recipient, bool *failed)
{
    *failed = false;
    if (recipient == NULL)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;
    if (o != NULL && cJSON_AddStringToObject(o, GW_MAIL_RECIPIENT_HEADER, recipient) != NULL)
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    *failed = out == NULL;
    return out;
}

/* Stores the row, resolving the endpoint's company the way the ingest writers do. */
static int store(const struct gw_config *cfg, const struct gw_endpoint_config *ep,
                 struct gw_inbox_row *row, FILE *err)
{
    struct gw_db *db = gw_db_open(&cfg->database);
    struct gw_tenants *tenants = gw_tenants_create();
    int rc = GW_MAIL_PIPE_TEMPFAIL;
    char why[160] = "";
    if (db == NULL || tenants == NULL) {
        fprintf(err, "ctgw mail-pipe: out of memory\n");
        goto done;
    }
    if (gw_db_ensure(db) != 0) {
        fprintf(err, "ctgw mail-pipe: the database is unavailable: %s\n", gw_db_error(db));
        goto done;
    }
    if (gw_db_begin(db) != 0)
        goto db_failed;
    row->status = "pending";
    if (ep->company != NULL) {
        enum gw_tenant_rc t = gw_tenants_resolve(tenants, db, ep->provider->name, ep->company, "",
                                                 &row->company_id, why, sizeof why);
        if (t == GW_TENANT_DB_ERROR)
            goto db_failed;
        if (t != GW_TENANT_FOUND) {
            row->company_id = 0;
            row->status = "ignored";
            row->last_error = why;
        }
    }
    int64_t inserted = gw_inbox_insert(db, row, 1);
    if (inserted < 0 || gw_db_commit(db) != 0)
        goto db_failed;
    rc = GW_MAIL_PIPE_OK;
    goto done;
db_failed:
    fprintf(err, "ctgw mail-pipe: storing the message failed: %s\n", gw_db_error(db));
    gw_db_rollback(db);
done:
    gw_tenants_destroy(tenants);
    gw_db_close(db);
    return rc;
}

int gw_mail_pipe_run(const struct gw_config *cfg, const struct gw_mail_pipe_args *a, FILE *in,
                     FILE *err)
{
    const struct gw_endpoint_config *ep = gw_config_endpoint(cfg, a->endpoint);
    if (ep == NULL || ep->provider == NULL || strcmp(ep->provider->name, "email-mime") != 0) {
        fprintf(err, "ctgw mail-pipe: %s is not an email-mime endpoint of %s\n", a->endpoint,
                cfg->path);
        return GW_MAIL_PIPE_TEMPFAIL; /* a configuration to fix: keep the message queued */
    }
    char rcpt[GW_MAIL_RECIPIENT_SIZE] = "";
    if (a->recipient != NULL && !gw_mail_recipient_clean(a->recipient, rcpt)) {
        fprintf(err, "ctgw mail-pipe: --recipient is not an e-mail address\n");
        return GW_MAIL_PIPE_USAGE;
    }
    unsigned char *raw = NULL;
    size_t len = 0;
    int got = read_all(in, (size_t)ep->max_body, &raw, &len);
    if (got < 0) {
        fprintf(err, "ctgw mail-pipe: reading the message failed\n");
        return GW_MAIL_PIPE_TEMPFAIL;
    }
    if (got > 0) {
        fprintf(err, "ctgw mail-pipe: the message is larger than %llu bytes\n",
                (unsigned long long)ep->max_body);
        return GW_MAIL_PIPE_DATAERR;
    }
    int rc = GW_MAIL_PIPE_DATAERR;
    char *headers = NULL;
    bool failed = false;
    if (len == 0 || !gw_mail_looks_like_message(raw, len)) {
        fprintf(err, "ctgw mail-pipe: %s\n",
                len == 0 ? "the message is empty" : "the input is not an e-mail message");
        goto done;
    }
    headers = stored_headers(rcpt[0] ? rcpt : NULL, &failed);
    if (failed) {
        fprintf(err, "ctgw mail-pipe: out of memory\n");
        rc = GW_MAIL_PIPE_TEMPFAIL;
        goto done;
    }
    char key[GW_DEDUPE_KEY_MAX + 1];
    unsigned char sha[GW_SHA256_SIZE];
    gw_mail_dedupe_key(raw, len, rcpt, key);
    gw_sha256(raw, len, sha);
    struct gw_inbox_row row = {
        .endpoint = ep->id,
        .provider = ep->provider->name,
        .dedupe_key = key,
        .batch = batch_token(),
        .source_address = "mail-pipe",
        .content_type = "message/rfc822",
        .headers = headers,
        .body = raw,
        .body_len = len,
        .body_sha256 = sha,
    };
    rc = store(cfg, ep, &row, err);
done:
    free(headers);
    free(raw);
    return rc;
}
