/* tls.h — the server TLS context built from `listen.tls`: TLS 1.2 or newer only. */
#ifndef CTGW_TLS_H
#define CTGW_TLS_H

#include <openssl/ssl.h>
#include <stddef.h>

#include "config/config.h"

/* Builds an SSL_CTX from the PEM certificate chain and key held in the config. NULL with a
 * message in err when the material is unusable (the message never contains key bytes). */
SSL_CTX *gw_tls_server_ctx(const struct gw_tls_config *tls, char *err, size_t errlen);

#endif
