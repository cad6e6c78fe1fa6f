/* mail_id.h — `ctgw mail-id`: the Message-ID, reply address and loop marker the core
 * application puts on outgoing mail about one job, as the mail apply path will recognise
 * them (gateway/core/mail_thread.h). */
#ifndef CTGW_CLI_MAIL_ID_H
#define CTGW_CLI_MAIL_ID_H

#include <stdio.h>

#include "config/config.h"

/* What `mail-id` was asked for. Strings point into argv. */
struct gw_mail_id_args {
    const char *config;
    const char *company; /* companies.slug */
    const char *ref;     /* CT-000123 (any form gw_job_ref_normalise accepts) */
    const char *tag;     /* NULL, or a per-message part of the Message-ID */
};

/* What gw_mail_id_parse tells main to do next (the values of integration.h's). */
enum {
    GW_MAIL_ID_RUN = 0,   /* load a->config and call gw_mail_id_print */
    GW_MAIL_ID_HELP = 1,  /* usage was printed to OUT: exit 0 */
    GW_MAIL_ID_USAGE = 2, /* a problem was printed to ERR: exit 2 */
};

/* Parses `ctgw mail-id -c FILE --company SLUG --ref CT-000123 [--tag TAG]`, ARGV[0] being
 * "mail-id". Checks the shape of each value; nothing is read or opened yet. */
int gw_mail_id_parse(int argc, char **argv, struct gw_mail_id_args *a, FILE *out, FILE *err);

/* Finds the company and its job (so that a typo is not handed out) and prints
 *     Message-ID: <ct.CT-000123[.TAG].MAC@DOMAIN>
 *     Reply-To: reply+CT-000123.MAC@DOMAIN
 *     X-CanTicket-Loop: MARKER
 * to OUT; problems to ERR. Returns 0, or 1 (no mail section, unknown company or job, the
 * database unreachable). */
int gw_mail_id_print(const struct gw_config *cfg, const struct gw_mail_id_args *a, FILE *out,
                     FILE *err);

#endif
