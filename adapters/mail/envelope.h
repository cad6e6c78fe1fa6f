/* envelope.h — what storing one raw e-mail message in the inbox needs before anything parses
 * it: the envelope recipient a relay names, whether the bytes are shaped like a message at
 * all, and the dedupe key (Message-ID and recipient, or the body's SHA-256). Pure and cheap
 * (a bounded scan of the header block, no MIME parsing), so the event loop (provider
 * email-mime) and `ctgw mail-pipe` compute the same key for the same delivery. */
#ifndef CTGW_MAIL_ENVELOPE_H
#define CTGW_MAIL_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>

#include "adapters/provider.h"
#include "gateway/core/mail_text.h"

/* The request header (and the key of the stored headers) that carries the envelope
 * recipient: the one address the relay delivers this copy to (Postfix's X-Original-To). */
#define GW_MAIL_RECIPIENT_HEADER "x-original-to"

/* The most bytes of the header block read for the Message-ID. */
#define GW_MAIL_ENVELOPE_SCAN_MAX (256u * 1024u)

#define GW_MAIL_RECIPIENT_SIZE 255 /* an address of at most 254 bytes and its NUL */

/* IN (white space around and one pair of angle brackets allowed) as a bare address in lower
 * case into OUT. False when it is not one address of at most 254 bytes. */
bool gw_mail_recipient_clean(const char *in, char out[GW_MAIL_RECIPIENT_SIZE]);

/* Whether RAW[0..LEN) starts (after blank lines, and an mbox "From " line) with a header
 * field "Name:": the least a message must be for the parser to make anything of it. */
bool gw_mail_looks_like_message(const unsigned char *raw, size_t len);

/* The Message-ID of the message's own header block (the first one; folded lines joined),
 * normalised as the core stores it ("<left@right>", gw_mail_message_id_normalise). False
 * when there is none within GW_MAIL_ENVELOPE_SCAN_MAX bytes, or it is not a Message-ID. */
bool gw_mail_envelope_message_id(const unsigned char *raw, size_t len,
                                 char out[GW_MAIL_MESSAGE_ID_SIZE]);

/* The inbox dedupe key of one delivery: "<message-id>" or "sha256:" and the body's SHA-256
 * in hex when it has none, then " " and RECIPIENT (clean; NULL or "": none). Past
 * GW_DEDUPE_KEY_MAX bytes the whole is "sha256:" and the hex SHA-256 of what it would be.
 * Always printable ASCII. */
void gw_mail_dedupe_key(const unsigned char *raw, size_t len, const char *recipient,
                        char out[GW_DEDUPE_KEY_MAX + 1]);

#endif
