/* fuzz_stripe.c — the Stripe-Signature parser, driven through the stripe verifier with fixed
 * secrets. Input: the header value, a newline, then the body. */
#include <string.h>

#include "tests/fuzz/fuzz.h"
#include "verifiers/stripe.h"

#define NOW ((time_t)1700000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char k0[] = "whsec_fuzz_0123456789abcdef";
    static char k1[] = "sk_no_prefix_secret"; /* exercises the "lacks whsec_" note */
    static const struct gw_secret secrets[] = {{k0, sizeof k0 - 1}, {k1, sizeof k1 - 1}};
    static char value[8192 + 2]; /* above the 4096 bytes the parser reads */

    struct fuzz_input in = {data, size};
    fuzz_line(&in, value, sizeof value);
    /* A first byte of 0x01 sends the header twice, to reach the "repeated" path. */
    bool twice = size > 0 && data[0] == 0x01;
    struct gw_header items[3] = {{"Content-Type", "application/json"},
                                 {"Stripe-Signature", value},
                                 {"stripe-signature", value}};
    struct gw_headers headers = {items, twice ? 3 : 2};
    struct gw_verify_input vin = {.body = in.p,
                                  .body_len = in.n,
                                  .headers = &headers,
                                  .secrets = secrets,
                                  .n_secrets = 2,
                                  .tolerance_s = 0,
                                  .now = NOW};
    struct gw_verify_detail d;
    memset(&d, 0x5a, sizeof d); /* the verifier must set what it reports */
    enum gw_verify_result r = gw_verifier_stripe.verify(&vin, &d);
    FUZZ_CHECK(r >= GW_VERIFY_OK && r <= GW_VERIFY_KEY_UNUSABLE);
    FUZZ_CHECK(memchr(d.note, '\0', sizeof d.note) != NULL);
    FUZZ_CHECK(memchr(d.header, '\0', sizeof d.header) != NULL);
    FUZZ_CHECK(r != GW_VERIFY_OK || (d.secret_index >= 0 && d.secret_index < 2));
    return 0;
}
