/* mail_id.c — `ctgw mail-id`: prints the thread ids of one job for the core application's
 * outgoing mail, after checking that the company and the job exist. */
#include "gateway/cli/mail_id.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "gateway/cli/integration.h"
#include "gateway/core/jobs.h"
#include "gateway/core/mail_thread.h"
#include "gateway/db/db.h"

#define MSG_MAX 512

enum { OPT_COMPANY = 256, OPT_REF, OPT_TAG };

static const struct option options[] = {
    {"config", required_argument, NULL, 'c'},          {"help", no_argument, NULL, 'h'},
    {"company", required_argument, NULL, OPT_COMPANY}, {"ref", required_argument, NULL, OPT_REF},
    {"tag", required_argument, NULL, OPT_TAG},         {NULL, 0, NULL, 0},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: ctgw mail-id -c FILE --company SLUG --ref CT-000123 [--tag TAG]\n"
               "Prints the Message-ID, Reply-To address and X-CanTicket-Loop value for mail\n"
               "about the job, signed with the config's mail.thread_key. TAG (1 to 64 of\n"
               "A-Z a-z 0-9 _ -) makes the Message-ID unique to one message.\n");
}

static bool is_tag(const char *s)
{
    size_t n = 0;
    for (; s[n] != '\0'; n++) {
        char c = s[n];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        if (!ok || n >= GW_MAIL_THREAD_TAG_MAX)
            return false;
    }
    return n > 0;
}

int gw_mail_id_parse(int argc, char **argv, struct gw_mail_id_args *a, FILE *out, FILE *err)
{
    memset(a, 0, sizeof *a);
    /* GNU getopt restarts with optind 0 (tests call this more than once). */
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
            return GW_MAIL_ID_HELP;
        case OPT_COMPANY:
            a->company = optarg;
            break;
        case OPT_REF:
            a->ref = optarg;
            break;
        case OPT_TAG:
            a->tag = optarg;
            break;
        default:
            fprintf(err, "ctgw mail-id: unknown option or missing value: %.100s\n",
                    optind >= 1 && optind <= argc ? argv[optind - 1] : "?");
            usage(err);
            return GW_MAIL_ID_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(err, "ctgw mail-id: unexpected argument: %.100s\n", argv[optind]);
        return GW_MAIL_ID_USAGE;
    }
    if (a->config == NULL || a->company == NULL || a->ref == NULL) {
        fprintf(err, "ctgw mail-id: -c, --company and --ref are required\n");
        usage(err);
        return GW_MAIL_ID_USAGE;
    }
    char norm[32];
    if (!gw_cli_slug_valid(a->company)) {
        fprintf(err, "ctgw mail-id: --company: expected a slug matching "
                     "[a-z0-9][a-z0-9_-]{0,63}\n");
        return GW_MAIL_ID_USAGE;
    }
    if (gw_job_ref_normalise(a->ref, norm) != 0) {
        fprintf(err, "ctgw mail-id: --ref: expected a ticket reference such as CT-000123\n");
        return GW_MAIL_ID_USAGE;
    }
    if (a->tag != NULL && !is_tag(a->tag)) {
        fprintf(err, "ctgw mail-id: --tag: expected 1 to %d of A-Z a-z 0-9 _ -\n",
                GW_MAIL_THREAD_TAG_MAX);
        return GW_MAIL_ID_USAGE;
    }
    return GW_MAIL_ID_RUN;
}

/* The company's id and the job's normalised ref, or -1 with a message in MSG. */
static int find_job(const struct gw_config *cfg, const struct gw_mail_id_args *a,
                    uint64_t *company_id, char ref[32], char *msg, size_t msg_len)
{
    struct gw_db *db = gw_db_open(&cfg->database);
    int rc = -1;
    if (db == NULL) {
        snprintf(msg, msg_len, "out of memory");
        return -1;
    }
    if (gw_db_ensure(db) != 0) {
        snprintf(msg, msg_len, "cannot connect to the database: %s", gw_db_error(db));
        goto done;
    }
    enum gw_core_rc found = gw_company_find(db, a->company, company_id);
    if (found == GW_CORE_NOT_FOUND) {
        snprintf(msg, msg_len, "unknown company '%s'", a->company);
        goto done;
    }
    if (found != GW_CORE_OK) {
        snprintf(msg, msg_len, "database: %s", gw_db_error(db));
        goto done;
    }
    struct gw_core_ctx c = {.db = db, .company_id = *company_id};
    uint64_t job_id = 0;
    gw_job_ref_normalise(a->ref, ref);
    if (gw_job_find(&c, a->ref, &job_id) != GW_CORE_OK) {
        snprintf(msg, msg_len, "%s", c.err);
        goto done;
    }
    rc = 0;
done:
    gw_db_close(db);
    return rc;
}

int gw_mail_id_print(const struct gw_config *cfg, const struct gw_mail_id_args *a, FILE *out,
                     FILE *err)
{
    static const char who[] = "ctgw mail-id";
    struct gw_mail_threading t;
    char msg[MSG_MAX];
    char message_id[GW_MAIL_THREAD_ID_SIZE];
    char reply[GW_MAIL_THREAD_ID_SIZE];
    char ref[32];
    uint64_t company_id = 0;
    int rc = 1;

    /* The key first: a config without one needs no database to be refused. */
    if (gw_mail_threading_init(&t, &cfg->mail, msg, sizeof msg) != 0) {
        fprintf(err, "%s: %s\n", who, msg);
        return 1;
    }
    if (find_job(cfg, a, &company_id, ref, msg, sizeof msg) != 0) {
        fprintf(err, "%s: %s\n", who, msg);
        goto done;
    }
    if (gw_mail_thread_message_id(&t, company_id, ref, a->tag, message_id, sizeof message_id) !=
            0 ||
        gw_mail_thread_reply_address(&t, company_id, ref, reply, sizeof reply) != 0) {
        fprintf(err, "%s: cannot compute the ids (OpenSSL failed)\n", who);
        goto done;
    }
    fprintf(out, "Message-ID: %s\nReply-To: %s\nX-CanTicket-Loop: %s\n", message_id, reply,
            t.loop_marker);
    rc = 0;
done:
    gw_mail_threading_wipe(&t);
    return rc;
}
