/* presign.c — writes N unique pre-signed `generic` job.create events for bench/ingest.lua. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_args.h"
#include "config/config.h"
#include "verifiers/standard_webhooks.h"

/* Output, one event a line: webhook-id TAB webhook-timestamp TAB webhook-signature TAB body.
 *
 * Every line has the same length, so that a wrk thread finds its slice with one seek and
 * reads one event with one read: the ids are the prefix and a 9-digit sequence number, the
 * timestamp has 10 digits, the signature 47 characters, and each JSON body is padded with
 * trailing spaces (JSON whitespace, signed like the rest) to the same width. The body holds
 * no tab and no newline. */

#define DEFAULT_WIDTH 320
#define WIDTH_MAX     4096

static const char *const streets[] = {
    "Harbour Street", "Mill Lane",   "Station Road",  "Church Walk",
    "Kings Parade",   "Orchard Way", "Foundry Close", "Riverside Drive",
};
static const char *const jobs[] = {
    "Boiler service",   "Leaking radiator valve", "Replace extractor fan",
    "Annual gas check", "No hot water",           "Fit thermostatic valves",
};
static const char *const priorities[] = {"normal", "normal", "high", "low", "urgent", "normal"};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static int usage(void)
{
    fprintf(stderr,
            "usage: presign -s SECRET_FILE -n COUNT -p ID_PREFIX -o OUT_FILE [-w BODY_WIDTH]\n"
            "               [-t UNIX_TIME]\n"
            "  SECRET_FILE holds the endpoint's whsec_ secret (one trailing newline dropped);\n"
            "  webhook-ids are ID_PREFIX and a 9-digit sequence number; bodies are padded\n"
            "  with spaces to BODY_WIDTH bytes (default %d); the timestamp is now.\n",
            DEFAULT_WIDTH);
    return 2;
}

/* A realistic job.create body of about 300 bytes, every event's a little different, padded
 * with spaces to `width`. Returns -1 when the JSON does not fit. */
static int make_body(uint64_t i, char *out, size_t width)
{
    unsigned contact = (unsigned)(i % 997u);
    int n = snprintf(out, width + 1,
                     "{\"type\":\"job.create\",\"data\":{\"title\":\"%s at %u %s, unit %u\","
                     "\"description\":\"Tenant reports low pressure and an intermittent F28 "
                     "fault code. Access via the side gate; call ahead. Ref %09" PRIu64 ".\","
                     "\"priority\":\"%s\",\"contact_email\":\"tenant%03u@example.net\","
                     "\"contact_name\":\"Tenant %03u\"}}",
                     jobs[i % COUNT_OF(jobs)], (unsigned)(1 + i % 180),
                     streets[(i / 7) % COUNT_OF(streets)], (unsigned)(1 + i % 40), i,
                     priorities[i % COUNT_OF(priorities)], contact, contact);
    if (n < 0 || (size_t)n > width)
        return -1;
    memset(out + n, ' ', width - (size_t)n);
    out[width] = '\0';
    return 0;
}

int main(int argc, char **argv)
{
    const char *secret_path = NULL, *prefix = NULL, *out_path = NULL;
    uint64_t count = 0, width = DEFAULT_WIDTH, ts = (uint64_t)time(NULL);
    int opt;
    while ((opt = getopt(argc, argv, "s:n:p:o:w:t:")) != -1) {
        switch (opt) {
        case 's':
            secret_path = optarg;
            break;
        case 'p':
            prefix = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'n':
            if (bench_parse_u64(optarg, 1, 999999999, &count) != 0)
                return usage();
            break;
        case 'w':
            if (bench_parse_u64(optarg, 64, WIDTH_MAX, &width) != 0)
                return usage();
            break;
        case 't': /* 10 digits keep every line the same length */
            if (bench_parse_u64(optarg, 1000000000, 9999999999, &ts) != 0)
                return usage();
            break;
        default:
            return usage();
        }
    }
    if (secret_path == NULL || prefix == NULL || out_path == NULL || count == 0 || optind != argc ||
        strlen(prefix) > 200 || strpbrk(prefix, " \t\r\n") != NULL)
        return usage();

    struct gw_secret secret = {0};
    if (bench_load_secret("presign", secret_path, &secret) != 0)
        return 1;

    FILE *out = fopen(out_path, "wb");
    if (out == NULL) {
        fprintf(stderr, "presign: %s: %s\n", out_path, strerror(errno));
        return 1;
    }
    static char obuf[1 << 20];
    setvbuf(out, obuf, _IOFBF, sizeof(obuf));

    char id[256], body[WIDTH_MAX + 1], sig[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    int rc = 0;
    for (uint64_t i = 0; i < count && rc == 0; i++) {
        snprintf(id, sizeof(id), "%s%09" PRIu64, prefix, i);
        if (make_body(i, body, (size_t)width) != 0) {
            fprintf(stderr, "presign: event %" PRIu64 " is longer than %" PRIu64 " bytes\n", i,
                    width);
            rc = 1;
        } else if (gw_standard_webhooks_sign(&secret, id, (int64_t)ts, (const unsigned char *)body,
                                             (size_t)width, sig, sizeof(sig)) != 0) {
            fprintf(stderr, "presign: cannot sign event %" PRIu64 " (is the secret whsec_…?)\n", i);
            rc = 1;
        } else {
            fprintf(out, "%s\t%" PRIu64 "\t%s\t%s\n", id, ts, sig, body);
        }
    }
    gw_secret_wipe(&secret);
    if (fclose(out) != 0 && rc == 0) {
        fprintf(stderr, "presign: writing %s: %s\n", out_path, strerror(errno));
        rc = 1;
    }
    return rc;
}
