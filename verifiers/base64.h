/* base64.h — a small strict base64 (RFC 4648) decoder and encoder for signature schemes. */
#ifndef CTGW_BASE64_H
#define CTGW_BASE64_H

#include <stdbool.h>
#include <stddef.h>

/* Flags; 0 is the strictest form: standard alphabet, padding required, canonical. */
enum {
    /* Use the URL-safe alphabet ("-_" instead of "+/"), both directions. */
    GW_BASE64_URL = 1u << 0,
    /* Encoding: write no '=' padding. Decoding: accept input with or without its padding
     * (but padding, when present, must still be complete and at the end). */
    GW_BASE64_NOPAD = 1u << 1,
    /* Decoding: ignore non-zero unused bits in the last character, as most libraries do.
     * Without it such input is refused, so that one byte string has exactly one encoding. */
    GW_BASE64_LAX_BITS = 1u << 2,
};

/* Characters gw_base64_encode writes for IN_LEN bytes, without the NUL, when padding. */
#define GW_BASE64_ENCODED_LEN(in_len) ((((in_len) + 2) / 3) * 4)

/* Decodes the IN_LEN characters of IN into OUT (at most OUT_CAP bytes) and stores the number
 * of bytes written in *OUT_LEN. Returns false — and leaves *OUT_LEN at 0 — when the input is
 * not entirely valid base64 under FLAGS (any whitespace, NUL or other character outside the
 * alphabet, misplaced or partial padding, an impossible length) or does not fit in OUT_CAP.
 * The empty input decodes to 0 bytes. */
bool gw_base64_decode(const char *in, size_t in_len, unsigned char *out, size_t out_cap,
                      size_t *out_len, unsigned flags);

/* Encodes IN_LEN bytes of IN into OUT as a NUL-terminated string. Returns the number of
 * characters written (without the NUL), or 0 when OUT_CAP is too small for them and the NUL
 * (OUT then holds the empty string when OUT_CAP > 0). Encoding 0 bytes returns 0 too. */
size_t gw_base64_encode(const unsigned char *in, size_t in_len, char *out, size_t out_cap,
                        unsigned flags);

#endif
