/* hash.c — SHA-256 through OpenSSL's one-shot digest, as bytes or as hex. */
#include "gateway/base/hash.h"

#include <string.h>

#include <openssl/evp.h>

bool gw_sha256(const void *data, size_t len, unsigned char out[GW_SHA256_SIZE])
{
    unsigned int n = 0;
    if (EVP_Digest(len > 0 ? data : "", len, out, &n, EVP_sha256(), NULL) == 1 &&
        n == GW_SHA256_SIZE)
        return true;
    memset(out, 0, GW_SHA256_SIZE);
    return false;
}

bool gw_sha256_hex(const void *data, size_t len, char out[GW_SHA256_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[GW_SHA256_SIZE];
    out[0] = '\0';
    if (!gw_sha256(data, len, md))
        return false;
    for (size_t i = 0; i < GW_SHA256_SIZE; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[2 * GW_SHA256_SIZE] = '\0';
    return true;
}
