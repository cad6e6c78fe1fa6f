/* sendgrid.c — provider `email-sendgrid`: SendGrid Inbound Parse POSTs each message as
 * multipart/form-data, either parsed (`headers` the raw header block, `text` and `html` in
 * the charsets `charsets` names, `attachment1`… described by `attachment-info`) or raw
 * (`email`, the whole message); `envelope` names the recipients. SendGrid signs nothing by
 * default: each endpoint sets HTTP Basic credentials (username, password) or a token (token,
 * header), or the public key of a signed-policy (public_key, verifier `sendgrid`, ECDSA over
 * timestamp + body). A long random path segment alone is no credential. Stored with the dedupe
 * key Message-ID (+ the one envelope recipient) and answered 200; 400 for what is refused
 * for good; 503 when not stored (SendGrid retries for 3 days). Up to 30 MB per message: the
 * endpoint's max_body defaults to 32 MiB. A worker reads the stored form again and hands the
 * message to the mail core (apply.h), composed (compose.h) in parsed mode. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/credential_auth.h"
#include "adapters/endpoint_keys.h"
#include "adapters/mail/charset.h"
#include "adapters/mail/envelope.h"
#include "adapters/mail/relay.h"
#include "adapters/mail/text.h"
#include "adapters/provider.h"
#include "config/config.h"
#include "verifiers/basic_auth.h"
#include "verifiers/sendgrid.h"

#define EP(field) offsetof(struct gw_endpoint_config, field)

#define REFUSED 400
/* SendGrid's limit is 30 MB a message; the form around it adds a little. */
#define DEFAULT_MAX_BODY (32u * 1024u * 1024u)
#define FILES_MAX        GW_FORM_DATA_FIELDS_MAX
#define CHARSET_MAX      64

static const char *const media_types[] = {"multipart/form-data", NULL};

/* The one envelope recipient, clean, or "" when `envelope` names none or several (then To
 * and Cc route). */
static void recipient_of(const struct gw_form_data *form, char rcpt[GW_MAIL_RECIPIENT_SIZE])
{
    rcpt[0] = '\0';
    const char *text = gw_form_data_text(form, "envelope");
    cJSON *env = text != NULL ? cJSON_Parse(text) : NULL;
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(env, "to");
    const cJSON *first = cJSON_GetArrayItem(to, 0);
    if (cJSON_IsArray(to) && cJSON_GetArraySize(to) == 1 && cJSON_IsString(first) &&
        !gw_mail_recipient_clean(first->valuestring, rcpt))
        rcpt[0] = '\0';
    cJSON_Delete(env);
}

/* The message (raw mode) or header block (parsed mode) the dedupe key is read from, or NULL
 * with ANSWER set when the post carries neither. */
static const struct gw_form_data_field *keyed(const struct gw_form_data *form,
                                              struct gw_answer *answer)
{
    const char *name = gw_form_data_get(form, "email") != NULL ? "email" : "headers";
    const struct gw_form_data_field *f = gw_form_data_get(form, name);
    if (f == NULL || gw_form_data_count(form, name) != 1 ||
        !gw_mail_looks_like_message(f->data, f->len)) {
        gw_answer_set(answer, REFUSED, "{\"error\":\"not_a_message\"}");
        return NULL;
    }
    return f;
}

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    (void)max;
    struct gw_form_data *form = NULL;
    enum gw_envelope_rc rc = gw_relay_form_inbound(in, REFUSED, &form, answer);
    if (rc != GW_ENVELOPE_STORE)
        return rc;
    const struct gw_form_data_field *f = keyed(form, answer);
    if (f != NULL) {
        char rcpt[GW_MAIL_RECIPIENT_SIZE];
        recipient_of(form, rcpt);
        gw_mail_dedupe_key(f->data, f->len, rcpt, out[0].dedupe_key);
        out[0].tenant[0] = '\0'; /* the worker finds the company (GW_PROVIDER_OWN_ROUTING) */
        *n = 1;
    }
    gw_form_data_free(form);
    return f != NULL ? GW_ENVELOPE_STORE : GW_ENVELOPE_ANSWER;
}

/* ---- parsed mode -------------------------------------------------------------------- */

/* The charset `charsets` names for FIELD, or NULL (then read as UTF-8, or Windows-1252 when
 * the bytes are not UTF-8). */
static const char *charset_of(const cJSON *charsets, const char *field)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(charsets, field);
    return cJSON_IsString(c) && strlen(c->valuestring) <= CHARSET_MAX ? c->valuestring : NULL;
}

/* Field NAME in UTF-8, read in its charset the way the mail core reads bodies (never failing
 * on the bytes), malloc'd; NULL when absent, or memory ran out (*NOMEM set). */
static char *field_utf8(const struct gw_form_data *form, const cJSON *charsets, const char *name,
                        size_t *len, bool *nomem)
{
    const struct gw_form_data_field *f = gw_form_data_get(form, name);
    *len = 0;
    if (f == NULL)
        return NULL;
    struct gw_mail_buf b;
    /* Any byte becomes at most 3 bytes of UTF-8 (U+FFFD): room for all of it. */
    gw_mail_buf_init(&b, f->len * 3 + 16);
    gw_mail_charset_decode(&b, charset_of(charsets, name), f->data, f->len);
    if (b.failed) {
        gw_mail_buf_free(&b);
        *nomem = true;
        return NULL;
    }
    *len = b.len;
    char *s = gw_mail_buf_take(&b);
    *nomem = *nomem || s == NULL;
    return s;
}

/* A string member of an attachment-info entry, or NULL. */
static const char *info_string(const cJSON *info, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(info, key);
    return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

/* attachment1 … attachmentN, described by attachment-info ({"attachment1": {"filename",
 * "name", "type", "content-id"}}) and content-ids ({"cid": "attachment1"}). INFO and CIDS
 * stay alive while FILES is used. Returns how many were set. */
static size_t files_of(const struct gw_form_data *form, const cJSON *info, const cJSON *cids,
                       struct gw_mail_compose_file *files)
{
    const cJSON *cid_map = cJSON_IsObject(cids) ? cids : NULL;
    size_t n = 0;
    for (size_t i = 0; i < form->n && n < FILES_MAX; i++) {
        const struct gw_form_data_field *f = &form->fields[i];
        if (strncmp(f->name, "attachment", 10) != 0)
            continue;
        const char *digits = f->name + 10;
        if (*digits < '0' || *digits > '9' || strspn(digits, "0123456789") != strlen(digits))
            continue;
        gw_relay_file(f, &files[n]);
        const cJSON *about = cJSON_GetObjectItemCaseSensitive(info, f->name);
        const char *name = info_string(about, "filename");
        const char *type = info_string(about, "type");
        const char *cid = info_string(about, "content-id");
        if (name != NULL)
            files[n].name = name;
        if (type != NULL)
            files[n].content_type = type;
        const cJSON *entry;
        cJSON_ArrayForEach(entry, cid_map)
        {
            if (cid == NULL && cJSON_IsString(entry) && entry->string != NULL &&
                strcmp(entry->valuestring, f->name) == 0)
                cid = entry->string;
        }
        if (cid != NULL)
            files[n].content_id = cid;
        n++;
    }
    return n;
}

/* JSON field NAME parsed, or NULL when absent or not JSON. */
static cJSON *json_field(const struct gw_form_data *form, const char *name)
{
    const struct gw_form_data_field *f = gw_form_data_get(form, name);
    return f != NULL ? cJSON_ParseWithLength((const char *)f->data, f->len) : NULL;
}

static enum gw_apply_rc apply_parsed(struct gw_apply *ctx, const struct gw_form_data *form,
                                     const char *rcpt)
{
    cJSON *charsets = json_field(form, "charsets");
    cJSON *info = json_field(form, "attachment-info");
    cJSON *cids = json_field(form, "content-ids");
    const struct gw_form_data_field *headers = gw_form_data_get(form, "headers");
    bool nomem = false;
    size_t text_len = 0, html_len = 0, unused = 0;
    char *text = field_utf8(form, charsets, "text", &text_len, &nomem);
    char *html = field_utf8(form, charsets, "html", &html_len, &nomem);
    char *from = field_utf8(form, charsets, "from", &unused, &nomem);
    char *to = field_utf8(form, charsets, "to", &unused, &nomem);
    char *cc = field_utf8(form, charsets, "cc", &unused, &nomem);
    char *subject = field_utf8(form, charsets, "subject", &unused, &nomem);
    struct gw_mail_compose_file *files = calloc(FILES_MAX, sizeof *files);
    enum gw_apply_rc rc = GW_APPLY_RETRY;
    if (nomem || files == NULL) {
        snprintf(ctx->error, sizeof ctx->error, "out of memory");
    } else {
        struct gw_mail_compose c = {
            .header_block = (const char *)headers->data,
            .header_block_len = headers->len,
            .from = from,
            .to = to,
            .cc = cc,
            .subject = subject,
            .text = text,
            .text_len = text_len,
            .text_charset = "utf-8",
            .html = html,
            .html_len = html_len,
            .html_charset = "utf-8",
            .files = files,
            .n_files = files_of(form, info, cids, files),
        };
        rc = gw_relay_apply_composed(ctx, &c, rcpt);
    }
    free(files);
    free(text);
    free(html);
    free(from);
    free(to);
    free(cc);
    free(subject);
    cJSON_Delete(charsets);
    cJSON_Delete(info);
    cJSON_Delete(cids);
    return rc;
}

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    struct gw_form_data *form = NULL;
    enum gw_apply_rc rc = gw_relay_form_stored(ctx, &form);
    if (rc != GW_APPLY_DONE)
        return rc;
    struct gw_answer scratch = {0};
    const struct gw_form_data_field *f = keyed(form, &scratch);
    gw_answer_free(&scratch);
    char rcpt[GW_MAIL_RECIPIENT_SIZE];
    recipient_of(form, rcpt);
    if (f == NULL) {
        snprintf(ctx->error, sizeof ctx->error, "the stored post carries no message");
        rc = GW_APPLY_FAILED;
    } else if (strcmp(f->name, "email") == 0) {
        rc = gw_relay_apply_raw(ctx, f->data, f->len, rcpt);
    } else {
        rc = apply_parsed(ctx, form, rcpt);
    }
    gw_form_data_free(form);
    return rc;
}

/* The signed policy when the endpoint has its public key; else Basic auth or the token. */
static const struct gw_verifier *verifier_for(const struct gw_endpoint_config *ep)
{
    return ep->public_key.data != NULL ? &gw_verifier_sendgrid : gw_credential_verifier_for(ep);
}

/* Exactly one way to authenticate: a credential (credential_auth.h) or the policy's key;
 * max_body 32 MiB by default. */
static void setup(struct gw_endpoint_config *ep, struct gw_cfg_setup *s)
{
    bool credential = ep->username != NULL || ep->password.data != NULL || ep->token.data != NULL;
    if (ep->public_key.data == NULL)
        gw_credential_setup("email-sendgrid", ep, s);
    else if (credential)
        gw_cfg_setup_error(s, "public_key",
                           "email-sendgrid: either public_key (a signed policy) or a credential");
    else if (ep->header != NULL)
        gw_cfg_setup_error(s, "header", "email-sendgrid: header names the token's header");
    if (ep->max_body == 0)
        ep->max_body = DEFAULT_MAX_BODY;
}

static const struct gw_cfg_key endpoint_keys[] = {
    {.name = "company", .type = GW_CFG_SLUG, .offset = EP(company)},
    GW_CREDENTIAL_KEYS,
    {.name = "public_key", .type = GW_CFG_FILE, .offset = EP(public_key)},
    GW_KEY_TOLERANCE,
    {.name = NULL},
};

const struct gw_provider gw_provider_email_sendgrid = {
    .name = "email-sendgrid",
    .summary = "inbound e-mail from SendGrid Inbound Parse (parsed or raw)",
    .endpoint_keys = endpoint_keys,
    .flags = GW_PROVIDER_OWN_ROUTING | GW_PROVIDER_MAIL_BODY,
    .setup = setup,
    .media_types = media_types,
    .source = "email",
    .stored_headers = gw_relay_stored_headers,
    .max_events = 1,
    .verifier = &gw_verifier_basic_auth,
    .verifier_for = verifier_for,
    .envelope = envelope,
    .apply = apply,
    .answer = gw_answer_stored_200,
};
