/* relay.h — what the mail relays share. Those that POST a form (Mailgun routes, SendGrid
 * Inbound Parse): the request read into its fields on the loop (to refuse it or find its
 * dedupe key) and again on the worker from the stored body and Content-Type, and the message
 * handed to the mail core (apply.h) either as the relay gave it (raw) or composed from its
 * parsed fields (compose.h). Each relay's own file says which fields mean what. */
#ifndef CTGW_MAIL_RELAY_H
#define CTGW_MAIL_RELAY_H

#include <stddef.h>

#include "adapters/mail/compose.h"
#include "adapters/mail/form_data.h"
#include "adapters/provider.h"

/* The request headers such a relay stores with its event (its stored_headers): the
 * Content-Type, whose boundary the worker needs to read the body again. */
extern const char *const gw_relay_stored_headers[];

/* Reads IN's body as its Content-Type says into *FORM (gw_form_data_free it). Returns
 * GW_ENVELOPE_STORE with *FORM set; GW_ENVELOPE_ANSWER with ANSWER set to REFUSED_STATUS and
 * {"error":"invalid_form"} when it is no form (the relay's answer for "refused for good"); or
 * GW_ENVELOPE_UNAVAILABLE when memory ran out. */
enum gw_envelope_rc gw_relay_form_inbound(const struct gw_inbound *in, int refused_status,
                                          struct gw_form_data **form, struct gw_answer *answer);

/* The same for a stored event on the worker: GW_APPLY_DONE with *FORM set, GW_APPLY_FAILED
 * (not a form: it was checked before storing, so only a changed relay gets here) or
 * GW_APPLY_RETRY (out of memory), the reason in ctx->error. */
enum gw_apply_rc gw_relay_form_stored(struct gw_apply *ctx, struct gw_form_data **form);

/* Applies the message RAW[0..LEN) for RECIPIENT (NULL or "": routed by To and Cc). */
enum gw_apply_rc gw_relay_apply_raw(struct gw_apply *ctx, const unsigned char *raw, size_t len,
                                    const char *recipient);

/* Composes the message C describes and applies it for RECIPIENT. GW_APPLY_FAILED when it
 * cannot be composed, GW_APPLY_RETRY when memory ran out. */
enum gw_apply_rc gw_relay_apply_composed(struct gw_apply *ctx, const struct gw_mail_compose *c,
                                         const char *recipient);

/* The file of FIELD (a form field holding an attachment) as compose takes it: its bytes,
 * its file name (or the field's name), its type and Content-ID (NULL when it has none). */
void gw_relay_file(const struct gw_form_data_field *field, struct gw_mail_compose_file *out);

#endif
