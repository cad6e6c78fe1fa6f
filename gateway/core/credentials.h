/* credentials.h — integration credentials at rest: the keyring built from `secrets_key` and
 * `previous_secrets_keys`, and AES-256-GCM sealing of what goes into
 * integrations.credentials_ciphertext, tagged with the id of the key that sealed it. */
#ifndef CTGW_CREDENTIALS_H
#define CTGW_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

/* An AES-256 key is 32 bytes, however the config writes it. */
#define GW_CREDENTIALS_KEY_LEN 32
/* How many retired keys `previous_secrets_keys` may list: the config's bound. */
#define GW_CREDENTIALS_MAX_PREVIOUS_KEYS GW_CFG_MAX_PREVIOUS_SECRETS_KEYS
/* "k" and 12 hex digits, with its NUL. */
#define GW_CREDENTIALS_KEY_ID_SIZE 14
/* A sealed blob is 1 version byte, a 12-byte nonce, the ciphertext and a 16-byte tag. */
#define GW_CREDENTIALS_OVERHEAD (1 + 12 + 16)
/* The largest plaintext whose blob fits integrations.credentials_ciphertext
 * (VARBINARY(8192)). */
#define GW_CREDENTIALS_MAX_PLAINTEXT (8192 - GW_CREDENTIALS_OVERHEAD)
/* provider and external_id are bound into the AAD; longer ones are refused (the columns
 * hold 32 and 255 characters). */
#define GW_CREDENTIALS_MAX_NAME 1024

/* Immutable once built, so worker threads may share one without locking. */
struct gw_keyring;

/* Decodes a configured key: 64 hex digits or base64 (standard alphabet, padding optional) of
 * 32 bytes, surrounding whitespace ignored, or exactly 32 raw bytes that are not all
 * printable (those are a passphrase or a too-short key: `openssl rand -base64 24` and
 * `-hex 16` print 32 characters). 0 with the key in OUT; -1 otherwise, with OUT zeroed and a
 * message in ERR that never repeats the value. The config's key32 type
 * (config/key32.h, gw_cfg_key32_decode) is this same decoder, so a bad key is reported as
 * FILE:LINE before any command runs. */
int gw_credentials_key_decode(const char *data, size_t len,
                              unsigned char out[GW_CREDENTIALS_KEY_LEN], char *err, size_t err_len);

/* The configured secrets_key (current) and previous_secrets_keys (decrypt only). NULL with a
 * message in err when secrets_key is not configured or a key is not 32 bytes. The keyring
 * keeps its own copies of the keys: CFG may be destroyed afterwards. */
struct gw_keyring *gw_keyring_from_config(const struct gw_config *cfg, char *err, size_t err_len);
/* Wipes the keys and frees. NULL is fine. */
void gw_keyring_free(struct gw_keyring *k);
/* The id of the current key, "k" and the first 12 hex digits of SHA-256 of its bytes. */
const char *gw_keyring_current_id(const struct gw_keyring *k);
/* True when KEY_ID names the current key or one of the previous ones. */
bool gw_keyring_has(const struct gw_keyring *k, const char *key_id);

/* AES-256-GCM under the current key; AAD binds provider and external_id so a ciphertext
 * cannot be moved to another integration row. *out is malloc'd. 0 on success; -1 when an
 * argument is missing or too long (plaintext at most GW_CREDENTIALS_MAX_PLAINTEXT) or
 * OpenSSL fails, with *out NULL. */
int gw_credentials_seal(const struct gw_keyring *k, const char *provider, const char *external_id,
                        const char *plaintext, size_t len, unsigned char **out, size_t *out_len);

/* Opens a blob sealed under key_id (current or previous). *plaintext is malloc'd and
 * NUL-terminated; free it with gw_credentials_free (which zeroes it). 0 on success, -1 on a
 * wrong key, unknown key id, tampering or malformed blob (then *plaintext is NULL). */
int gw_credentials_open(const struct gw_keyring *k, const char *key_id, const char *provider,
                        const char *external_id, const unsigned char *blob, size_t blob_len,
                        char **plaintext, size_t *len);

/* Zeroes LEN bytes of PLAINTEXT and frees it. NULL is fine. */
void gw_credentials_free(char *plaintext, size_t len);

#endif
