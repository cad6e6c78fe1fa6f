/* sign_relay.h — what `ctgw sign` (verify.c) adds for the e-mail relays' endpoints: Mailgun's
 * signed fields as parts of a multipart body, the credential of a basic-auth or token endpoint
 * (never printed: curl asks for the password, or takes the token from the environment), and
 * SendGrid's signed-policy headers made with a test private key given by file. */
#ifndef CTGW_CLI_SIGN_RELAY_H
#define CTGW_CLI_SIGN_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "verifiers/form.h"
#include "verifiers/verifier.h"

/* The environment variable the printed curl command reads a token from. */
#define GW_SIGN_TOKEN_ENV "CTGW_TOKEN"

/* What a relay's request needs beyond the signed headers and appended fields. */
struct gw_sign_extra {
    char content_type[GW_FORM_CONTENT_TYPE_MAX + 40]; /* "": the provider's default */
    /* Bytes put into the body before its byte insert_at (a multipart's closing delimiter). */
    size_t insert_at;
    char insert[2 * GW_SIGNED_BODY_SUFFIX_MAX];
    size_t insert_len;
    const char *user;         /* basic-auth: curl --user USER (it asks for the password) */
    bool token;               /* token: the header's value from $GW_SIGN_TOKEN_ENV */
    const char *token_header; /* its header; NULL: Authorization: Bearer */
};

/* When BODY is multipart/form-data (its first line "--BOUNDARY", a closing "--BOUNDARY--"
 * line after it): sets X's content type with that boundary and moves the fields SIG would
 * append to a urlencoded body ("a=1&b=2", Mailgun's) into parts put before the closing
 * delimiter. Returns 1 then, 0 when BODY is not multipart (nothing changed), -1 with a
 * reason in ERR when the fields cannot be made parts. */
int gw_sign_form_parts(const unsigned char *body, size_t len, struct gw_signed *sig,
                       struct gw_sign_extra *x, char *err, size_t err_len);

/* Fills X for an endpoint whose scheme carries a credential (basic-auth, token). */
void gw_sign_credential(const struct gw_endpoint_config *ep, const struct gw_verifier *s,
                        struct gw_sign_extra *x);

/* SendGrid's signed-policy headers for TIMESTAMP and BODY, signed with the EC P-256 private
 * key in the PEM file KEY_FILE (mode 0600; NULL: the reason says to give one), into SIG. 0, or -1
 * with a reason in ERR. */
int gw_sign_ecdsa(const char *key_file, int64_t timestamp, const unsigned char *body, size_t len,
                  struct gw_signed *sig, char *err, size_t err_len);

#endif
