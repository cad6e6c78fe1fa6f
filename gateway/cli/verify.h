/* verify.h — the operator's commands `ctgw verify` (why is this request a 401?) and
 * `ctgw sign` (a request signed for an endpoint, as a curl command or raw HTTP). */
#ifndef CTGW_CLI_VERIFY_H
#define CTGW_CLI_VERIFY_H

#include <stdio.h>

/* Exit codes of both commands. */
enum {
    GW_CLI_OK = 0,      /* verify: the request verifies; sign: printed */
    GW_CLI_REFUSED = 1, /* verify: the request does not verify */
    GW_CLI_USAGE = 2,   /* bad arguments, unreadable files, an invalid config */
};

/* `ctgw verify`, with ARGV[0] "verify":
 *   -c FILE --endpoint ID --request FILE [--now UNIX_TIME]
 *   --scheme NAME --secret-file F [--secret-file F2 ...] [--key-file PEM]
 *       [--legacy-key-file PEM] [--topic ARN ...] [--cert-file PEM] [--cert-host-pattern P]
 *       [--token-header NAME] [--tolerance SECONDS] --request FILE [--now UNIX_TIME]
 * Prints one screen about the request to OUT (never a secret byte), problems with the
 * arguments to ERR. Returns GW_CLI_OK, GW_CLI_REFUSED or GW_CLI_USAGE. */
int gw_cli_verify(int argc, char **argv, FILE *out, FILE *err);

/* `ctgw sign`, with ARGV[0] "sign": -c FILE --endpoint ID --body FILE [--raw] [--now T]
 * [--id ID] [--key FILE]. Prints a curl command (or, with --raw, the HTTP request `ctgw
 * verify --request` reads) signed with the endpoint's newest secret to OUT, or, with --key,
 * with the private key in FILE (ghl: an Ed25519 PEM key readable by its owner only, giving
 * x-ghl-signature). Returns GW_CLI_OK or GW_CLI_USAGE. */
int gw_cli_sign(int argc, char **argv, FILE *out, FILE *err);

#endif
