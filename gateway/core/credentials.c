/* credentials.c — the keyring of credential keys and AES-256-GCM sealing of integration
 * credentials (OpenSSL EVP), bound to the integration row they belong to. */
#include "gateway/core/credentials.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "config/key32.h"
#include "gateway/base/hash.h"
#include "verifiers/hmac.h"

#define BLOB_VERSION 0x01
#define NONCE_LEN    12
#define TAG_LEN      16

_Static_assert(GW_CREDENTIALS_KEY_LEN == GW_CFG_KEY32_LEN, "one key length");
_Static_assert(GW_CREDENTIALS_OVERHEAD == 1 + NONCE_LEN + TAG_LEN, "blob layout");

/* The AAD starts with this label and its NUL, so that no other use of a key could produce
 * a tag that verifies here. */
static const char aad_label[] = "ctgw-credentials";

struct key {
    char id[GW_CREDENTIALS_KEY_ID_SIZE];
    unsigned char bytes[GW_CREDENTIALS_KEY_LEN];
};

struct gw_keyring {
    size_t n;                                              /* keys[0] is the current key */
    struct key keys[1 + GW_CREDENTIALS_MAX_PREVIOUS_KEYS]; /* the rest open only */
};

/* The config checked the key's form when it loaded (the key32 value type); the keyring
 * decodes it with the same function, so a key that loads is a key the keyring opens. */
int gw_credentials_key_decode(const char *data, size_t len,
                              unsigned char out[GW_CREDENTIALS_KEY_LEN], char *err, size_t err_len)
{
    return gw_cfg_key32_decode(data, len, out, err, err_len);
}

/* "k" and the first 12 hex digits of SHA-256 of the key: stable across restarts and
 * configs, and says nothing useful about the key itself. */
static int key_id(const unsigned char *bytes, char id[GW_CREDENTIALS_KEY_ID_SIZE])
{
    unsigned char digest[GW_SHA256_SIZE];
    int rc = -1;

    if (gw_sha256(bytes, GW_CREDENTIALS_KEY_LEN, digest)) {
        id[0] = 'k';
        rc = gw_hex_encode(digest, 6, id + 1, GW_CREDENTIALS_KEY_ID_SIZE - 1) == 12 ? 0 : -1;
    }
    OPENSSL_cleanse(digest, sizeof digest);
    return rc;
}

/* Decodes SECRET (named WHAT in messages) into the next slot of K. A key equal to one
 * already there is skipped, so listing the current key among the previous ones is fine. */
static int add_key(struct gw_keyring *k, const struct gw_secret *secret, const char *what,
                   char *err, size_t err_len)
{
    struct key *slot = &k->keys[k->n];
    char why[256];

    if (gw_credentials_key_decode(secret->data, secret->len, slot->bytes, why, sizeof why) < 0) {
        snprintf(err, err_len, "%s: %s", what, why);
        return -1;
    }
    if (key_id(slot->bytes, slot->id) < 0) {
        snprintf(err, err_len, "%s: cannot compute the key id (SHA-256 failed)", what);
        OPENSSL_cleanse(slot, sizeof *slot);
        return -1;
    }
    for (size_t i = 0; i < k->n; i++) {
        if (strcmp(k->keys[i].id, slot->id) != 0)
            continue;
        if (CRYPTO_memcmp(k->keys[i].bytes, slot->bytes, GW_CREDENTIALS_KEY_LEN) == 0) {
            OPENSSL_cleanse(slot, sizeof *slot);
            return 0;
        }
        snprintf(err, err_len, "%s: two different keys share the id %s; generate a new key", what,
                 slot->id);
        OPENSSL_cleanse(slot, sizeof *slot);
        return -1;
    }
    k->n++;
    return 0;
}

struct gw_keyring *gw_keyring_from_config(const struct gw_config *cfg, char *err, size_t err_len)
{
    struct gw_keyring *k;
    char what[64];

    if (err_len > 0)
        err[0] = '\0';
    if (cfg == NULL || cfg->secrets_key.data == NULL) {
        snprintf(err, err_len,
                 "secrets_key is not configured; generate a key with: openssl rand -hex 32 > "
                 "FILE && chmod 600 FILE, and set secrets_key: file:FILE");
        return NULL;
    }
    if (cfg->n_previous_secrets_keys > GW_CREDENTIALS_MAX_PREVIOUS_KEYS) {
        snprintf(err, err_len, "previous_secrets_keys: at most %d keys, got %zu",
                 GW_CREDENTIALS_MAX_PREVIOUS_KEYS, cfg->n_previous_secrets_keys);
        return NULL;
    }
    k = calloc(1, sizeof *k);
    if (k == NULL) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    if (add_key(k, &cfg->secrets_key, "secrets_key", err, err_len) < 0) {
        gw_keyring_free(k);
        return NULL;
    }
    for (size_t i = 0; i < cfg->n_previous_secrets_keys; i++) {
        snprintf(what, sizeof what, "previous_secrets_keys[%zu]", i);
        if (add_key(k, &cfg->previous_secrets_keys[i], what, err, err_len) < 0) {
            gw_keyring_free(k);
            return NULL;
        }
    }
    return k;
}

void gw_keyring_free(struct gw_keyring *k)
{
    if (k == NULL)
        return;
    OPENSSL_cleanse(k, sizeof *k);
    free(k);
}

const char *gw_keyring_current_id(const struct gw_keyring *k)
{
    return k != NULL && k->n > 0 ? k->keys[0].id : NULL;
}

static const struct key *find_key(const struct gw_keyring *k, const char *key_id)
{
    for (size_t i = 0; k != NULL && key_id != NULL && i < k->n; i++)
        if (strcmp(k->keys[i].id, key_id) == 0)
            return &k->keys[i];
    return NULL;
}

bool gw_keyring_has(const struct gw_keyring *k, const char *key_id)
{
    return find_key(k, key_id) != NULL;
}

static bool name_ok(const char *s)
{
    if (s == NULL)
        return false;
    size_t n = strnlen(s, GW_CREDENTIALS_MAX_NAME + 1);
    return n > 0 && n <= GW_CREDENTIALS_MAX_NAME;
}

/* Runs AES-256-GCM one way (ENC 1 seals, 0 opens) over LEN bytes of IN into OUT, with the
 * AAD built from PROVIDER and EXTERNAL_ID. Sealing writes TAG; opening checks it. 0 when
 * every step succeeded (and, opening, the tag matched). */
static int gcm(int enc, const unsigned char *key, const unsigned char *nonce, const char *provider,
               const char *external_id, const unsigned char *in, size_t len, unsigned char *out,
               unsigned char *tag)
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int outl = 0;
    int finl = 0;
    int ok;

    if (ctx == NULL)
        return -1;
    /* "ctgw-credentials" NUL provider NUL external_id: neither name can hold a NUL, so the
     * split is unambiguous and a blob opens only on the row it was sealed for. */
    ok = EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) == 1 &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1 &&
         EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &outl, (const unsigned char *)aad_label, sizeof aad_label) ==
             1 &&
         EVP_CipherUpdate(ctx, NULL, &outl, (const unsigned char *)provider,
                          (int)strlen(provider)) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &outl, (const unsigned char *)"", 1) == 1 &&
         EVP_CipherUpdate(ctx, NULL, &outl, (const unsigned char *)external_id,
                          (int)strlen(external_id)) == 1;
    outl = 0;
    if (ok && len > 0)
        ok = EVP_CipherUpdate(ctx, out, &outl, in, (int)len) == 1 && (size_t)outl == len;
    if (ok && !enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) == 1;
    if (ok)
        ok = EVP_CipherFinal_ex(ctx, out + outl, &finl) == 1 && finl == 0;
    if (ok && enc)
        ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag) == 1;
    EVP_CIPHER_CTX_free(ctx); /* wipes the key schedule */
    return ok ? 0 : -1;
}

int gw_credentials_seal(const struct gw_keyring *k, const char *provider, const char *external_id,
                        const char *plaintext, size_t len, unsigned char **out, size_t *out_len)
{
    unsigned char *blob;
    size_t total;

    if (out != NULL)
        *out = NULL;
    if (out_len != NULL)
        *out_len = 0;
    if (k == NULL || k->n == 0 || out == NULL || out_len == NULL || !name_ok(provider) ||
        !name_ok(external_id) || (plaintext == NULL && len > 0) ||
        len > GW_CREDENTIALS_MAX_PLAINTEXT)
        return -1;
    total = GW_CREDENTIALS_OVERHEAD + len;
    blob = malloc(total);
    if (blob == NULL)
        return -1;
    blob[0] = BLOB_VERSION;
    /* A random 96-bit nonce per seal: credentials are sealed far fewer than 2^32 times
     * under one key, so a repeat is out of reach. */
    if (RAND_bytes(blob + 1, NONCE_LEN) != 1 ||
        gcm(1, k->keys[0].bytes, blob + 1, provider, external_id, (const unsigned char *)plaintext,
            len, blob + 1 + NONCE_LEN, blob + 1 + NONCE_LEN + len) < 0) {
        OPENSSL_cleanse(blob, total);
        free(blob);
        return -1;
    }
    *out = blob;
    *out_len = total;
    return 0;
}

int gw_credentials_open(const struct gw_keyring *k, const char *key_id, const char *provider,
                        const char *external_id, const unsigned char *blob, size_t blob_len,
                        char **plaintext, size_t *len)
{
    const struct key *key = find_key(k, key_id);
    unsigned char tag[TAG_LEN];
    size_t ct_len;
    char *buf;

    if (plaintext != NULL)
        *plaintext = NULL;
    if (len != NULL)
        *len = 0;
    if (key == NULL || plaintext == NULL || len == NULL || blob == NULL || !name_ok(provider) ||
        !name_ok(external_id) || blob_len < GW_CREDENTIALS_OVERHEAD ||
        blob_len > GW_CREDENTIALS_OVERHEAD + GW_CREDENTIALS_MAX_PLAINTEXT ||
        blob[0] != BLOB_VERSION)
        return -1;
    ct_len = blob_len - GW_CREDENTIALS_OVERHEAD;
    buf = malloc(ct_len + 1);
    if (buf == NULL)
        return -1;
    memcpy(tag, blob + 1 + NONCE_LEN + ct_len, TAG_LEN);
    if (gcm(0, key->bytes, blob + 1, provider, external_id, blob + 1 + NONCE_LEN, ct_len,
            (unsigned char *)buf, tag) < 0) {
        /* What was decrypted before the tag failed is unauthenticated: never hand it out. */
        OPENSSL_cleanse(buf, ct_len + 1);
        free(buf);
        return -1;
    }
    buf[ct_len] = '\0';
    *plaintext = buf;
    *len = ct_len;
    return 0;
}

void gw_credentials_free(char *plaintext, size_t len)
{
    if (plaintext == NULL)
        return;
    OPENSSL_cleanse(plaintext, len);
    free(plaintext);
}
