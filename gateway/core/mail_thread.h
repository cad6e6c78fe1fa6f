/* mail_thread.h — the thread ids ctgw hands out on outgoing mail, and their check when a
 * reply comes back: the Message-ID <ct.CT-000123.MAC@DOMAIN> (or <ct.CT-000123.TAG.MAC@DOMAIN>
 * with a per-message tag) and the reply address reply+CT-000123.MAC@DOMAIN. Pure: no
 * database, no clock, so the apply path (adapters/), `ctgw mail-id` (gateway/cli/) and the
 * tests compute the same bytes.
 *
 * MAC is the first 10 bytes, as 20 lowercase hex digits, of
 *     HMAC-SHA256(K, "ctgw-thread-v1:" || COMPANY_ID || ":" || REF)
 * where K is the 32 bytes mail.thread_key decodes to (64 hex digits or base64), COMPANY_ID
 * the decimal companies.id and REF the normalised ref "CT-000123". The company is inside the
 * MAC, so one company's id never matches another company's job of the same ref; TAG is not
 * (it only makes each Message-ID unique, as RFC 5322 asks and Gmail enforces by dropping a
 * second message with an id it has seen). The core application computes the same MAC to
 * put these on what it sends; `ctgw mail-id` prints them. */
#ifndef CTGW_MAIL_THREAD_H
#define CTGW_MAIL_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define GW_MAIL_THREAD_MAC_SIZE 10 /* bytes of the MAC kept: 80 bits */
#define GW_MAIL_THREAD_MAC_HEX  (2 * GW_MAIL_THREAD_MAC_SIZE)
#define GW_MAIL_THREAD_TAG_MAX  64 /* characters of a tag: A-Z a-z 0-9 _ - */
/* Room for any id or address built here, with the NUL: the local part of either form is at
 * most 3 + 21 + 1 + 64 + 1 + 20 characters and the domain 253. */
#define GW_MAIL_THREAD_ID_SIZE 400
/* The longest text gw_mail_thread_parse looks at: a header line's limit (RFC 5322). */
#define GW_MAIL_THREAD_TEXT_MAX 998

/* What building and checking ids needs, from the `mail:` section. Holds the key: wipe it. */
struct gw_mail_threading {
    unsigned char key[32];
    char domain[254];
    char loop_marker[201]; /* mail.loop_marker, or "ctgw-" and 16 hex digits of
                              HMAC-SHA256(K, "ctgw-loop-v1"): stable while the key is */
};

/* Fills T from CFG (mail.thread_key decoded, mail.domain, the loop marker). 0, or -1 with a
 * sentence in ERR (never the key) when the section is absent or the key does not decode. */
int gw_mail_threading_init(struct gw_mail_threading *t, const struct gw_mail_config *cfg, char *err,
                           size_t err_len);
/* Overwrites the key. NULL is fine. */
void gw_mail_threading_wipe(struct gw_mail_threading *t);

/* Writes "<ct.CT-000123.MAC@DOMAIN>", or "<ct.CT-000123.TAG.MAC@DOMAIN>" when TAG is not NULL,
 * into OUT. REF is any form gw_job_ref_normalise accepts. 0, or -1 with OUT empty when REF is
 * not a ref, TAG is empty, longer than GW_MAIL_THREAD_TAG_MAX or has other characters, OUT_CAP
 * is too small, or OpenSSL fails. */
int gw_mail_thread_message_id(const struct gw_mail_threading *t, uint64_t company_id,
                              const char *ref, const char *tag, char *out, size_t out_cap);

/* Writes "reply+CT-000123.MAC@DOMAIN" into OUT; 0, or -1 as above. */
int gw_mail_thread_reply_address(const struct gw_mail_threading *t, uint64_t company_id,
                                 const char *ref, char *out, size_t out_cap);

/* A thread id as read back, not yet verified. */
struct gw_mail_thread_id {
    char ref[32]; /* normalised: "CT-000123" */
    unsigned char mac[GW_MAIL_THREAD_MAC_SIZE];
    bool reply_address; /* it was a reply+ address, not a Message-ID */
};

/* Reads either form from TEXT[0..LEN): white space around and one pair of angle brackets
 * are allowed; "ct.", "reply+", "CT-" and the hex digits in any case (some relays lower-case
 * local parts). The domain is not compared with ours: the MAC is the proof, and ids handed
 * out before a change of mail.domain keep working. False when it is neither form. */
bool gw_mail_thread_parse(const char *text, size_t len, struct gw_mail_thread_id *id);

/* Whether ID's MAC is the one of (COMPANY_ID, ID->ref), compared in constant time. */
bool gw_mail_thread_verify(const struct gw_mail_threading *t, uint64_t company_id,
                           const struct gw_mail_thread_id *id);

/* Parse and verify in one: true with the ref in REF when TEXT is an id of this company. */
bool gw_mail_thread_match(const struct gw_mail_threading *t, uint64_t company_id, const char *text,
                          size_t len, char ref[32]);

#endif
