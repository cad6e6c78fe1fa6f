/* main.c — the ctgw command line: parses the command and its options, loads the config with
 * the one loader every command shares, and hands over to the command. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/provider.h"
#include "config/config.h"
#include "gateway/cli/integration.h"
#include "gateway/cli/mail_id.h"
#include "gateway/cli/mail_pipe.h"
#include "gateway/cli/verify.h"
#include "gateway/db/db.h"
#include "gateway/base/log.h"
#include "gateway/db/migrate.h"
#include "gateway/db/migrations.h"
#include "gateway/db/purge.h"
#include "gateway/pipeline/pipeline.h"

#ifndef CTGW_VERSION
#define CTGW_VERSION "dev"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: ctgw COMMAND -c FILE\n"
                 "\n"
                 "commands:\n"
                 "  serve -c FILE          run the gateway\n"
                 "  migrate -c FILE        apply pending schema migrations (idempotent)\n"
                 "  check-config -c FILE   validate a config file and print every error\n"
                 "  verify -c FILE --endpoint ID --request FILE [--now T]\n"
                 "                         explain whether a captured request verifies\n"
                 "  verify --scheme NAME --secret-file F ... --request FILE\n"
                 "                         the same without a config (ctgw verify --help)\n"
                 "  sign -c FILE --endpoint ID --body FILE [--raw] [--now T] [--id ID]\n"
                 "                         print a curl command (or the raw request) signed\n"
                 "                         for the endpoint\n"
                 "  integration set -c FILE --company SLUG --provider NAME --external-id ID\n"
                 "      [--refresh-token-file F] [--status active|disabled|disconnected]\n"
                 "                         connect a provider account to a company, sealing\n"
                 "                         its refresh token with secrets_key\n"
                 "  purge -c FILE          empty old raw bodies and delete old audit rows\n"
                 "                         (retention:), as serve does once a day\n"
                 "  rekey -c FILE          re-seal every integration's credentials under the\n"
                 "                         current secrets_key\n"
                 "  mail-id -c FILE --company SLUG --ref CT-000123 [--tag TAG]\n"
                 "                         print the Message-ID and reply address of mail\n"
                 "                         about a job\n"
                 "  mail-pipe -c FILE --endpoint ID [--recipient ADDR] < MESSAGE\n"
                 "                         store one e-mail from an MTA's pipe transport\n"
                 "  version                print the version\n");
}

static void register_secret(const struct gw_secret *secret, void *ud)
{
    (void)ud;
    gw_log_register_secret(secret->data, secret->len);
}

/* Loads the config, printing every error as FILE:LINE: message. NULL when invalid. */
static enum gw_log_level log_level_of(enum gw_cfg_log_level level)
{
    switch (level) {
    case GW_CFG_LOG_DEBUG:
        return GW_LOG_DEBUG;
    case GW_CFG_LOG_WARN:
        return GW_LOG_WARN;
    case GW_CFG_LOG_ERROR:
        return GW_LOG_ERROR;
    case GW_CFG_LOG_INFO:
        break;
    }
    return GW_LOG_INFO;
}

static struct gw_config *load_config(const char *path)
{
    struct gw_config_errors errs = {0};
    struct gw_config *cfg = gw_config_load(path, &gw_providers_for_config, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.lines[i]);
    gw_config_errors_finish(&errs);
    if (cfg != NULL) {
        gw_log_configure(log_level_of(cfg->log.level), cfg->log.format == GW_CFG_LOG_FORMAT_TEXT
                                                           ? GW_LOG_FORMAT_TEXT
                                                           : GW_LOG_FORMAT_JSON);
        gw_config_each_secret(cfg, register_secret, NULL);
    }
    return cfg;
}

static int cmd_check_config(const char *path)
{
    struct gw_config_errors errs = {0};
    struct gw_config *cfg = gw_config_load(path, &gw_providers_for_config, &errs);
    for (size_t i = 0; i < errs.n; i++)
        fprintf(stderr, "%s\n", errs.lines[i]);
    int rc = 1;
    if (cfg != NULL) {
        char summary[512];
        gw_config_summary(cfg, summary, sizeof(summary));
        printf("%s: %s\n", path, summary);
        rc = 0;
    } else {
        fprintf(stderr, "%s: %zu error%s\n", path, errs.n, errs.n == 1 ? "" : "s");
    }
    gw_config_errors_finish(&errs);
    gw_config_destroy(cfg);
    return rc;
}

/* `ctgw integration set`: its options are its own (cli_integration.c); the config is loaded
 * here like every other command's. */
static int cmd_integration(int argc, char **argv)
{
    struct gw_integration_args args;
    int parsed = gw_integration_parse(argc, argv, &args, stdout, stderr);
    if (parsed == GW_INTEGRATION_HELP)
        return 0;
    if (parsed != GW_INTEGRATION_RUN)
        return 2;
    struct gw_config *cfg = load_config(args.config);
    if (cfg == NULL)
        return 1;
    int rc = 1;
    if (gw_db_library_init() != 0) {
        gw_log_error(NULL, "cannot initialise the MySQL client library");
    } else {
        rc = gw_integration_set(cfg, &args, stdout, stderr);
        gw_db_library_end();
    }
    gw_log_forget_secrets();
    gw_config_destroy(cfg);
    return rc;
}

/* `ctgw mail-id`: options of its own (cli/mail_id.c), the config loaded like every other
 * command's. */
static int cmd_mail_id(int argc, char **argv)
{
    struct gw_mail_id_args args;
    int parsed = gw_mail_id_parse(argc, argv, &args, stdout, stderr);
    if (parsed == GW_MAIL_ID_HELP)
        return 0;
    if (parsed != GW_MAIL_ID_RUN)
        return 2;
    struct gw_config *cfg = load_config(args.config);
    if (cfg == NULL)
        return 1;
    int rc = 1;
    if (gw_db_library_init() != 0) {
        gw_log_error(NULL, "cannot initialise the MySQL client library");
    } else {
        rc = gw_mail_id_print(cfg, &args, stdout, stderr);
        gw_db_library_end();
    }
    gw_log_forget_secrets();
    gw_config_destroy(cfg);
    return rc;
}

/* `ctgw mail-pipe`: run by an MTA, so every way it can end is a sysexits status (see
 * cli/mail_pipe.h); a config that does not load keeps the message queued (75). */
static int cmd_mail_pipe(int argc, char **argv)
{
    struct gw_mail_pipe_args args;
    int parsed = gw_mail_pipe_parse(argc, argv, &args, stdout, stderr);
    if (parsed == GW_MAIL_PIPE_HELP)
        return 0;
    if (parsed != GW_MAIL_PIPE_RUN)
        return parsed;
    struct gw_config *cfg = load_config(args.config);
    if (cfg == NULL)
        return GW_MAIL_PIPE_TEMPFAIL;
    int rc = GW_MAIL_PIPE_TEMPFAIL;
    if (gw_db_library_init() != 0) {
        gw_log_error(NULL, "cannot initialise the MySQL client library");
    } else {
        rc = gw_mail_pipe_run(cfg, &args, stdin, stderr);
        gw_db_library_end();
    }
    gw_log_forget_secrets();
    gw_config_destroy(cfg);
    return rc;
}

static int cmd_migrate(const struct gw_config *cfg)
{
    struct gw_db *db = gw_db_open(&cfg->database);
    if (db == NULL) {
        gw_log_error(NULL, "out of memory");
        return 1;
    }
    if (gw_db_ensure(db) != 0) {
        gw_log_error(NULL, "cannot connect to the database: %s", gw_db_error(db));
        gw_db_close(db);
        return 1;
    }
    char err[512];
    unsigned applied = 0;
    int rc = gw_migrate_apply(db, &applied, err, sizeof(err));
    if (rc != 0)
        gw_log_error(NULL, "migrate failed: %s", err);
    else if (applied == 0)
        gw_log_info(NULL, "schema is current (%zu migration%s)", gw_migrations_count,
                    gw_migrations_count == 1 ? "" : "s");
    else
        gw_log_info(NULL, "applied %u migration%s", applied, applied == 1 ? "" : "s");
    gw_db_close(db);
    return rc == 0 ? 0 : 1;
}

static int cmd_purge(const struct gw_config *cfg)
{
    struct gw_db *db = gw_db_open(&cfg->database);
    if (db == NULL) {
        gw_log_error(NULL, "out of memory");
        return 1;
    }
    if (gw_db_ensure(db) != 0) {
        gw_log_error(NULL, "cannot connect to the database: %s", gw_db_error(db));
        gw_db_close(db);
        return 1;
    }
    struct gw_purge_stats st = {0};
    int rc = gw_purge_run(db, &cfg->retention, NULL, &st);
    if (rc != 0)
        gw_log_error(NULL, "purge failed: %s", gw_db_error(db));
    printf("purge: emptied %llu raw bod%s, deleted %llu audit row%s%s\n",
           (unsigned long long)st.bodies, st.bodies == 1 ? "y" : "ies",
           (unsigned long long)st.audit, st.audit == 1 ? "" : "s",
           rc != 0 ? " before failing" : "");
    gw_db_close(db);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *command = argv[1];
    if (strcmp(command, "help") == 0 || strcmp(command, "--help") == 0 ||
        strcmp(command, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(command, "version") == 0 || strcmp(command, "--version") == 0) {
        printf("ctgw %s\n", CTGW_VERSION);
        return 0;
    }

    /* The operator tools take their own options (cli_verify.c). */
    if (strcmp(command, "verify") == 0)
        return gw_cli_verify(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(command, "sign") == 0)
        return gw_cli_sign(argc - 1, argv + 1, stdout, stderr);
    if (strcmp(command, "integration") == 0)
        return cmd_integration(argc - 1, argv + 1);
    if (strcmp(command, "mail-id") == 0)
        return cmd_mail_id(argc - 1, argv + 1);
    if (strcmp(command, "mail-pipe") == 0)
        return cmd_mail_pipe(argc - 1, argv + 1);

    const char *config_path = NULL;
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 2;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
        switch (ch) {
        case 'c':
            config_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || config_path == NULL) {
        fprintf(stderr, "ctgw %s: -c FILE is required%s\n", command,
                optind != argc ? " and takes no other arguments" : "");
        return 2;
    }

    if (strcmp(command, "check-config") == 0)
        return cmd_check_config(config_path);
    if (strcmp(command, "serve") != 0 && strcmp(command, "migrate") != 0 &&
        strcmp(command, "rekey") != 0 && strcmp(command, "purge") != 0) {
        fprintf(stderr, "ctgw: unknown command '%s'\n", command);
        usage(stderr);
        return 2;
    }

    struct gw_config *cfg = load_config(config_path);
    if (cfg == NULL)
        return 1;
    if (gw_db_library_init() != 0) {
        gw_log_error(NULL, "cannot initialise the MySQL client library");
        gw_config_destroy(cfg);
        return 1;
    }
    int rc = strcmp(command, "serve") == 0   ? gw_serve(cfg, &gw_pipeline_app)
             : strcmp(command, "rekey") == 0 ? gw_rekey(cfg, stdout, stderr)
             : strcmp(command, "purge") == 0 ? cmd_purge(cfg)
                                             : cmd_migrate(cfg);
    gw_db_library_end();
    gw_log_forget_secrets();
    gw_config_destroy(cfg);
    return rc;
}
