/* key32.h — the forms a 32-byte key (`secrets_key`, GW_CFG_KEY32) may be written in, checked
 * when the config loads so that a bad key is reported as FILE:LINE before any command runs. */
#ifndef CTGW_CONFIG_KEY32_H
#define CTGW_CONFIG_KEY32_H

#include <stddef.h>

#define GW_CFG_KEY32_LEN 32

/* Decodes DATA[0..LEN): 64 hex digits or base64 (standard alphabet, padding optional) of 32
 * bytes, surrounding whitespace ignored, or exactly 32 raw bytes that are not all printable
 * (those are a passphrase or a too-short key: `openssl rand -base64 24` and `-hex 16` print
 * 32 characters). 0 with the key in OUT; -1 otherwise, with OUT zeroed and a message in ERR
 * that never repeats the value. */
int gw_cfg_key32_decode(const char *data, size_t len, unsigned char out[GW_CFG_KEY32_LEN],
                        char *err, size_t err_len);

#endif
