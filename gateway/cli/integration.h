/* cli_integration.h — the operator's commands over the `integrations` table:
 * `ctgw integration set` (connect an account, store its sealed refresh token) and
 * `ctgw rekey` (re-seal every credential under the current secrets_key). */
#ifndef CTGW_CLI_INTEGRATION_H
#define CTGW_CLI_INTEGRATION_H

#include <stdio.h>

#include "config/config.h"

/* What `integration set` was asked to do. Strings point into argv. */
struct gw_integration_args {
    const char *config;
    const char *company;            /* companies.slug */
    const char *provider;           /* a provider name gw_provider_find knows */
    const char *external_id;        /* the provider's account id (Xero tenantId, ...) */
    const char *refresh_token_file; /* NULL: credentials left as they are */
    const char *status;             /* NULL: 'active' for a new row, unchanged otherwise */
};

/* What gw_integration_parse tells main to do next. */
enum {
    GW_INTEGRATION_RUN = 0,   /* load a->config and call gw_integration_set */
    GW_INTEGRATION_HELP = 1,  /* usage was printed to OUT: exit 0 */
    GW_INTEGRATION_USAGE = 2, /* a problem was printed to ERR: exit 2 */
};

/* Parses `ctgw integration set -c FILE --company SLUG --provider NAME --external-id ID
 * [--refresh-token-file F] [--status active|disabled|disconnected]`, ARGV[0] being
 * "integration". Checks the shape of each value; nothing is read or opened yet. */
int gw_integration_parse(int argc, char **argv, struct gw_integration_args *a, FILE *out,
                         FILE *err);

/* Upserts the row (provider, external_id) for the company, sealing {"refresh_token": ...}
 * read from the file when one is given. Refuses to move a row to another company. Prints one
 * line to OUT saying what it did (never the token), problems to ERR. Returns 0 or 1. */
int gw_integration_set(const struct gw_config *cfg, const struct gw_integration_args *a, FILE *out,
                       FILE *err);

/* `ctgw rekey`: re-seals, one row per transaction, every credential whose key id is not the
 * current key's, opening it with whichever configured key it names. Prints the counts to OUT
 * and each failed row (id and why, never the plaintext) to ERR. Returns 1 if any failed. */
int gw_rekey(const struct gw_config *cfg, FILE *out, FILE *err);

/* Whether S is a company slug as companies.slug holds it: 1..64 of a-z 0-9, then also - _. */
bool gw_cli_slug_valid(const char *s);

#endif
