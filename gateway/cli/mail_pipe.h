/* mail_pipe.h — `ctgw mail-pipe`: one message from an MTA's pipe transport (Postfix
 * pipe(8), Exim's pipe) stored in the inbox as an event of an email-mime endpoint, through
 * the same dedupe key (adapters/mail/envelope.h) and the same INSERT (gateway/db/inbox.h) as
 * a POST to that endpoint; a running ctgw's workers apply it. The exit status is what the
 * MTA acts on (sysexits.h): 0 stored (or stored before), 75 try again later, 65 refused. */
#ifndef CTGW_CLI_MAIL_PIPE_H
#define CTGW_CLI_MAIL_PIPE_H

#include <stdio.h>

#include "config/config.h"

/* Exit statuses (sysexits.h values, spelled out so the contract is visible here). */
enum {
    GW_MAIL_PIPE_OK = 0,
    GW_MAIL_PIPE_USAGE = 64,    /* EX_USAGE: the command line is wrong */
    GW_MAIL_PIPE_DATAERR = 65,  /* EX_DATAERR: the message is refused (empty, too large, not
                                   a message): the MTA bounces it */
    GW_MAIL_PIPE_TEMPFAIL = 75, /* EX_TEMPFAIL: the database is unavailable, or the config
                                   or endpoint is wrong: the MTA keeps the message and retries */
};

/* What `mail-pipe` was asked for. Strings point into argv. */
struct gw_mail_pipe_args {
    const char *config;
    const char *endpoint;  /* the id of an email-mime endpoint of the config */
    const char *recipient; /* the envelope recipient (Postfix ${original_recipient}), or NULL */
};

/* What gw_mail_pipe_parse tells main to do next. */
enum {
    GW_MAIL_PIPE_RUN = 0,  /* load a->config and call gw_mail_pipe_run */
    GW_MAIL_PIPE_HELP = 1, /* usage was printed to OUT: exit 0 */
};

/* Parses `ctgw mail-pipe -c FILE --endpoint ID [--recipient ADDR]`, ARGV[0] being
 * "mail-pipe". Returns GW_MAIL_PIPE_RUN, GW_MAIL_PIPE_HELP, or GW_MAIL_PIPE_USAGE with the
 * problem printed to ERR. */
int gw_mail_pipe_parse(int argc, char **argv, struct gw_mail_pipe_args *a, FILE *out, FILE *err);

/* Reads one message from IN (at most the endpoint's max_body, which defaults to
 * mail.max_message) and stores it. Problems go to ERR as one line. Returns one of the exit
 * statuses above. */
int gw_mail_pipe_run(const struct gw_config *cfg, const struct gw_mail_pipe_args *a, FILE *in,
                     FILE *err);

#endif
