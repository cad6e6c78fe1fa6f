/* presign_slack.c — writes N unique signed Slack `/job show|new` commands for bench/slack.lua. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench/bench_args.h"
#include "config/config.h"
#include "verifiers/slack.h"

/* Output: K files OUT.0 … OUT.K-1 (one per wrk thread); command i goes to file i % K. One
 * command a line: KIND TAB X-Slack-Request-Timestamp TAB X-Slack-Signature TAB body, KIND `s`
 * for `/job show CT-00000N` (N cycling through 1..JOBS) or `n` for `/job new TITLE`; within
 * each file every fifth command is a `new` (20 %). Each command has its own trigger_id
 * (PREFIX + 9 digits + a fixed tail shaped like Slack's) and its own response_url under
 * RESPONSE_URL_BASE. The body is a form like Slack's, from team T0DEMO0001 and user
 * U0DEMOADM (the demo admin of config/dev-seed.sql); it holds no tab and no newline. */

#define FILES_MAX 64
#define BODY_MAX  2048

static int usage(void)
{
    fprintf(stderr,
            "usage: presign_slack -s SECRET_FILE -n COUNT -k FILES -p TRIGGER_PREFIX\n"
            "                     -u RESPONSE_URL_BASE -o OUT_PREFIX [-j JOBS] [-t UNIX_TIME]\n"
            "  SECRET_FILE holds the Slack signing secret (one trailing newline dropped);\n"
            "  writes OUT_PREFIX.0 .. OUT_PREFIX.(FILES-1); `show` refs cycle through\n"
            "  CT-000001 .. CT-(JOBS, default 100); the timestamp is now.\n");
    return 2;
}

/* Form-encodes SRC as Slack does: unreserved characters kept, space as '+', the rest %XX. */
static void form_escape(const char *src, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)src; *p && n + 4 < cap; p++) {
        unsigned c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.') {
            out[n++] = (char)c;
        } else if (c == ' ') {
            out[n++] = '+';
        } else {
            out[n++] = '%';
            out[n++] = hex[c >> 4];
            out[n++] = hex[c & 15];
        }
    }
    out[n] = '\0';
}

static const char *const titles[] = {
    "Boiler service",   "Leaking radiator valve", "Replace extractor fan",
    "Annual gas check", "No hot water",           "Fit thermostatic valves",
};

int main(int argc, char **argv)
{
    const char *secret_path = NULL, *prefix = NULL, *out_prefix = NULL, *url_base = NULL;
    uint64_t count = 0, files = 0, njobs = 100, ts = (uint64_t)time(NULL);
    int opt;
    while ((opt = getopt(argc, argv, "s:n:k:p:u:o:j:t:")) != -1) {
        switch (opt) {
        case 's':
            secret_path = optarg;
            break;
        case 'p':
            prefix = optarg;
            break;
        case 'u':
            url_base = optarg;
            break;
        case 'o':
            out_prefix = optarg;
            break;
        case 'n':
            if (bench_parse_u64(optarg, 1, 999999999, &count) != 0)
                return usage();
            break;
        case 'k':
            if (bench_parse_u64(optarg, 1, FILES_MAX, &files) != 0)
                return usage();
            break;
        case 'j':
            if (bench_parse_u64(optarg, 1, 999999, &njobs) != 0)
                return usage();
            break;
        case 't':
            if (bench_parse_u64(optarg, 1000000000, 9999999999, &ts) != 0)
                return usage();
            break;
        default:
            return usage();
        }
    }
    if (secret_path == NULL || prefix == NULL || out_prefix == NULL || url_base == NULL ||
        count == 0 || files == 0 || optind != argc || strlen(prefix) > 100 ||
        strlen(url_base) > 200 || strlen(out_prefix) > 900 ||
        strpbrk(prefix, " \t\r\n&=%+") != NULL || strpbrk(url_base, " \t\r\n") != NULL)
        return usage();

    struct gw_secret secret = {0};
    if (bench_load_secret("presign_slack", secret_path, &secret) != 0)
        return 1;

    FILE *out[FILES_MAX] = {NULL};
    int rc = 0;
    for (uint64_t k = 0; k < files && rc == 0; k++) {
        char path[1024];
        snprintf(path, sizeof(path), "%s.%" PRIu64, out_prefix, k);
        out[k] = fopen(path, "wb");
        if (out[k] == NULL) {
            fprintf(stderr, "presign_slack: %s: %s\n", path, strerror(errno));
            rc = 1;
        } else if (setvbuf(out[k], NULL, _IOFBF, 1 << 20) != 0) {
            rc = 1;
        }
    }

    char trigger[160], text[160], url[512], text_enc[512], url_enc[1600], body[BODY_MAX];
    char sig[GW_SLACK_SIGNATURE_SIZE];
    for (uint64_t i = 0; i < count && rc == 0; i++) {
        uint64_t k = i % files, seq = i / files;
        int is_new = seq % 5 == 4;
        snprintf(trigger, sizeof(trigger), "%s%09" PRIu64 ".738474920.8088930838d88f008e0", prefix,
                 i);
        if (is_new)
            snprintf(text, sizeof(text), "new %s, bench %09" PRIu64, titles[i % 6], i);
        else
            snprintf(text, sizeof(text), "show CT-%06" PRIu64, 1 + seq % njobs);
        snprintf(url, sizeof(url), "%s/commands/T0DEMO0001/%s", url_base, trigger);
        form_escape(text, text_enc, sizeof(text_enc));
        form_escape(url, url_enc, sizeof(url_enc));
        int n = snprintf(body, sizeof(body),
                         "token=gIkuvaNzQIHg97ATvDxqgjtO&team_id=T0DEMO0001&team_domain=demo&"
                         "channel_id=C2147483705&channel_name=general&user_id=U0DEMOADM&"
                         "user_name=ada&command=%%2Fjob&text=%s&api_app_id=A0BENCH001&"
                         "is_enterprise_install=false&response_url=%s&trigger_id=%s",
                         text_enc, url_enc, trigger);
        if (n < 0 || (size_t)n >= sizeof(body)) {
            fprintf(stderr, "presign_slack: command %" PRIu64 " is too long\n", i);
            rc = 1;
        } else if (gw_slack_sign(&secret, (int64_t)ts, (const unsigned char *)body, (size_t)n, sig,
                                 sizeof(sig)) != 0) {
            fprintf(stderr, "presign_slack: cannot sign command %" PRIu64 "\n", i);
            rc = 1;
        } else {
            fprintf(out[k], "%c\t%" PRIu64 "\t%s\t%s\n", is_new ? 'n' : 's', ts, sig, body);
        }
    }
    gw_secret_wipe(&secret);
    for (uint64_t k = 0; k < files; k++) {
        if (out[k] != NULL && fclose(out[k]) != 0 && rc == 0) {
            fprintf(stderr, "presign_slack: writing %s.%" PRIu64 ": %s\n", out_prefix, k,
                    strerror(errno));
            rc = 1;
        }
    }
    return rc;
}
