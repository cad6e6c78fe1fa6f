/* fuzz_standard_webhooks.c — the Standard Webhooks headers (webhook-signature entries above
 * all) and its secret decoding, driven through the verifier. Input: a flags byte, then the
 * lines id, timestamp, signature, secret, then the body. */
#include <stdio.h>
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "verifiers/standard_webhooks.h"

#define NOW ((time_t)1700000000)

enum {
    SVIX = 1u << 0,        /* send the svix-* names */
    NO_ID = 1u << 1,       /* leave a header out */
    NO_TS = 1u << 2,       /* ... */
    NO_SIG = 1u << 3,      /* ... */
    TWO_SIGS = 1u << 4,    /* send webhook-signature twice */
    TWO_SECRETS = 1u << 5, /* a fixed, valid secret first, then the fuzzed one */
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char id[512], ts[64], sig[9000], secret[512];
    static char fixed[] = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    if (size == 0)
        return 0;
    unsigned flags = data[0];
    struct fuzz_input in = {data + 1, size - 1};
    fuzz_line(&in, id, sizeof id);
    fuzz_line(&in, ts, sizeof ts);
    fuzz_line(&in, sig, sizeof sig);
    fuzz_line(&in, secret, sizeof secret);

    const char *prefix = (flags & SVIX) ? "svix" : "webhook";
    char id_name[16], ts_name[24], sig_name[24];
    snprintf(id_name, sizeof id_name, "%s-id", prefix);
    snprintf(ts_name, sizeof ts_name, "%s-timestamp", prefix);
    snprintf(sig_name, sizeof sig_name, "%s-signature", prefix);
    struct gw_header items[5];
    size_t n = 0;
    if (!(flags & NO_ID))
        items[n++] = (struct gw_header){id_name, id};
    if (!(flags & NO_TS))
        items[n++] = (struct gw_header){ts_name, ts};
    if (!(flags & NO_SIG))
        items[n++] = (struct gw_header){sig_name, sig};
    if (flags & TWO_SIGS)
        items[n++] = (struct gw_header){sig_name, sig};
    struct gw_headers headers = {items, n};

    struct gw_secret secrets[2] = {{fixed, sizeof fixed - 1}, {secret, strlen(secret)}};
    bool two = (flags & TWO_SECRETS) != 0;
    struct gw_verify_input vin = {.body = in.p,
                                  .body_len = in.n,
                                  .headers = &headers,
                                  .secrets = two ? secrets : secrets + 1,
                                  .n_secrets = two ? 2 : 1,
                                  .now = NOW};
    struct gw_verify_detail d;
    memset(&d, 0x5a, sizeof d);
    enum gw_verify_result r = gw_verifier_standard_webhooks.verify(&vin, &d);
    FUZZ_CHECK(r >= GW_VERIFY_OK && r <= GW_VERIFY_KEY_UNUSABLE);
    FUZZ_CHECK(memchr(d.note, '\0', sizeof d.note) != NULL);
    FUZZ_CHECK(r != GW_VERIFY_OK ||
               (d.secret_index >= 0 && (size_t)d.secret_index < vin.n_secrets));

    /* The signer with the fuzzed secret and id must agree with the verifier. */
    char out[GW_STANDARD_WEBHOOKS_SIGNATURE_SIZE];
    int64_t t = (int64_t)NOW;
    if (gw_standard_webhooks_sign(&secrets[1], id, t, in.p, in.n, out, sizeof out) == 0) {
        char tss[32];
        snprintf(tss, sizeof tss, "%lld", (long long)t);
        struct gw_header good[3] = {
            {"webhook-id", id}, {"webhook-timestamp", tss}, {"webhook-signature", out}};
        struct gw_headers gh = {good, 3};
        struct gw_verify_input v2 = {.body = in.p,
                                     .body_len = in.n,
                                     .headers = &gh,
                                     .secrets = secrets + 1,
                                     .n_secrets = 1,
                                     .now = NOW};
        FUZZ_CHECK(gw_verifier_standard_webhooks.verify(&v2, &d) == GW_VERIFY_OK);
    }
    return 0;
}
