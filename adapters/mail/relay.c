/* relay.c — the form, the raw and the composed message of the relays that POST forms. */
#include "adapters/mail/relay.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/mail/apply.h"

const char *const gw_relay_stored_headers[] = {"content-type", NULL};

enum gw_envelope_rc gw_relay_form_inbound(const struct gw_inbound *in, int refused_status,
                                          struct gw_form_data **form, struct gw_answer *answer)
{
    char err[200];
    /* Exactly one Content-Type: the pipeline checked its media type, the verifier (mailgun)
     * or this reads its boundary. */
    const char *ct = gw_headers_count(in->headers, "Content-Type") == 1
                         ? gw_headers_get(in->headers, "Content-Type")
                         : NULL;
    enum gw_form_data_rc rc = gw_form_data_read(ct, in->body, in->body_len, form, err, sizeof err);
    if (rc == GW_FORM_DATA_NOMEM)
        return GW_ENVELOPE_UNAVAILABLE;
    if (rc != GW_FORM_DATA_OK) {
        gw_answer_set(answer, refused_status, "{\"error\":\"invalid_form\"}");
        return GW_ENVELOPE_ANSWER;
    }
    return GW_ENVELOPE_STORE;
}

enum gw_apply_rc gw_relay_form_stored(struct gw_apply *ctx, struct gw_form_data **form)
{
    cJSON *headers = ctx->headers != NULL ? cJSON_Parse(ctx->headers) : NULL;
    const cJSON *ct = cJSON_GetObjectItemCaseSensitive(headers, "content-type");
    char err[200];
    enum gw_form_data_rc rc = gw_form_data_read(cJSON_IsString(ct) ? ct->valuestring : NULL,
                                                ctx->body, ctx->body_len, form, err, sizeof err);
    cJSON_Delete(headers);
    if (rc == GW_FORM_DATA_OK)
        return GW_APPLY_DONE;
    snprintf(ctx->error, sizeof ctx->error, "the stored form cannot be read: %s", err);
    return rc == GW_FORM_DATA_NOMEM ? GW_APPLY_RETRY : GW_APPLY_FAILED;
}

enum gw_apply_rc gw_relay_apply_raw(struct gw_apply *ctx, const unsigned char *raw, size_t len,
                                    const char *recipient)
{
    struct gw_mail_delivery d = {.raw = raw, .len = len, .recipient = recipient};
    return gw_mail_apply(ctx, &d);
}

enum gw_apply_rc gw_relay_apply_composed(struct gw_apply *ctx, const struct gw_mail_compose *c,
                                         const char *recipient)
{
    unsigned char *raw = NULL;
    size_t len = 0;
    char err[256] = "";
    /* The parser's bounds, but the whole request the endpoint took may be composed: what
     * is over mail: limits is cut by the mail core afterwards, with a note, as for raw mail. */
    struct gw_mail_limits lim = {0};
    if (ctx->cfg != NULL) {
        lim.max_parts = ctx->cfg->mail.max_parts;
        lim.max_depth = ctx->cfg->mail.max_depth;
        lim.max_header_bytes = (size_t)ctx->cfg->mail.max_header_bytes;
    }
    if (ctx->endpoint != NULL && ctx->endpoint->max_body > 0)
        lim.max_message_bytes = (size_t)ctx->endpoint->max_body;
    struct gw_mail_compose bounded = *c;
    bounded.limits = &lim;
    if (gw_mail_compose(&bounded, &raw, &len, err, sizeof err) != 0) {
        snprintf(ctx->error, sizeof ctx->error, "the relay's fields make no message: %s",
                 err[0] != '\0' ? err : "compose failed");
        free(raw);
        return strcmp(err, "out of memory") == 0 ? GW_APPLY_RETRY : GW_APPLY_FAILED;
    }
    enum gw_apply_rc rc = gw_relay_apply_raw(ctx, raw, len, recipient);
    free(raw);
    return rc;
}

void gw_relay_file(const struct gw_form_data_field *field, struct gw_mail_compose_file *out)
{
    *out = (struct gw_mail_compose_file){
        .name = field->filename != NULL ? field->filename : field->name,
        .content_type = field->content_type,
        .content_id = field->content_id,
        .data = field->data,
        .len = field->len,
    };
}
