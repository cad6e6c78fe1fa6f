/* postmark.c — provider `email-postmark`: Postmark's inbound webhook POSTs each message as
 * JSON (providers.md §4.4), authenticated only by HTTP Basic credentials in the webhook URL.
 * The post is stored as it came, deduplicated on Postmark's MessageID; a worker makes it the
 * raw message again — RawEmail when Postmark includes it, else the Headers array, the
 * address fields, TextBody, HtmlBody and the base64 Attachments composed by GMime
 * (compose.h) — and hands that to the mail core (apply.h) with the envelope recipient.
 *
 * Postmark retries every answer but 200 and 403 for about ten hours: what can never be
 * stored (not JSON, not a message, bad base64) is answered 403 so it stops; what could not
 * be stored now (the database) gets the gateway's 503, which it retries. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/mail/apply.h"
#include "adapters/mail/compose.h"
#include "adapters/endpoint_keys.h"
#include "adapters/mail/envelope.h"
#include "adapters/provider.h"
#include "config/config.h"
#include "gateway/core/mail_thread.h"
#include "verifiers/base64.h"
#include "verifiers/basic_auth.h"

#define EP(field) offsetof(struct gw_endpoint_config, field)

#define HASH_MAX 200 /* bytes of a MailboxHash made part of an address */

static const char *const media_types[] = {"application/json", NULL};

/* One Postmark post, read. Strings point into the JSON; files' data and from are owned. */
struct post {
    cJSON *root;
    const char *message_id;
    const char *raw; /* RawEmail, or NULL */
    char recipient[GW_MAIL_RECIPIENT_SIZE];
    struct gw_mail_compose in;
    const char **pairs;
    struct gw_mail_compose_file *files;
    char *from;
    bool oom; /* reading failed for want of memory, not for the post */
};

static void post_free(struct post *p)
{
    for (size_t i = 0; p->files != NULL && i < p->in.n_files; i++)
        free((void *)p->files[i].data);
    free(p->files);
    free(p->pairs);
    free(p->from);
    cJSON_Delete(p->root);
    memset(p, 0, sizeof *p);
}

/* A string member: true with *OUT the string (NULL when absent, null or ""); false when it
 * is there with another type. */
static bool text_of(const cJSON *obj, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsString(v) || v->valuestring == NULL)
        return false;
    *out = v->valuestring[0] != '\0' ? v->valuestring : NULL;
    return true;
}

/* An array member: true with *OUT the array or NULL when absent or null. */
static bool array_of(const cJSON *obj, const char *key, const cJSON **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = NULL;
    if (v == NULL || cJSON_IsNull(v))
        return true;
    if (!cJSON_IsArray(v))
        return false;
    *out = v;
    return true;
}

/* Postmark's MessageID as a dedupe key: 1..255 visible ASCII characters. */
static bool message_id_ok(const char *id)
{
    size_t n = id != NULL ? strnlen(id, GW_DEDUPE_KEY_MAX + 1) : 0;
    if (n == 0 || n > GW_DEDUPE_KEY_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (id[i] <= 32 || id[i] >= 127)
            return false;
    return true;
}

static bool read_headers(struct post *p, const cJSON *headers)
{
    size_t n = (size_t)cJSON_GetArraySize(headers);
    if (n == 0)
        return true;
    if (n > GW_MAIL_COMPOSE_HEADERS_MAX)
        return false;
    p->pairs = calloc(2 * n, sizeof *p->pairs);
    if (p->pairs == NULL)
        return !(p->oom = true);
    size_t i = 0;
    const cJSON *h;
    cJSON_ArrayForEach(h, headers)
    {
        const char *name, *value;
        if (!cJSON_IsObject(h) || !text_of(h, "Name", &name) || name == NULL ||
            !text_of(h, "Value", &value))
            return false;
        /* A name compose would refuse the whole message for is left out here, before the
         * post is acknowledged, instead of failing it after. */
        if (!gw_mail_compose_field_name_ok(name))
            continue;
        p->pairs[2 * i] = name;
        p->pairs[2 * i + 1] = value != NULL ? value : "";
        i++;
    }
    p->in.header_pairs = p->pairs;
    p->in.n_header_pairs = i;
    return true;
}

/* Base64 TEXT decoded into a malloc'd *OUT: line breaks and blanks between the characters
 * are allowed (MIME writes them), anything else outside the alphabet is not. False with
 * *OUT NULL when memory runs out, with *OUT set (the caller frees it) when TEXT is not
 * base64. */
static bool decode_base64(const char *text, unsigned char **out, size_t *out_len)
{
    size_t len = strlen(text), n = 0;
    char *packed = malloc(len + 1);
    *out = malloc(len / 4 * 3 + 1);
    if (packed == NULL || *out == NULL) {
        free(packed);
        free(*out);
        *out = NULL;
        return false;
    }
    for (size_t i = 0; i < len; i++)
        if (text[i] != '\r' && text[i] != '\n' && text[i] != ' ' && text[i] != '\t')
            packed[n++] = text[i];
    bool ok = gw_base64_decode(packed, n, *out, len / 4 * 3 + 1, out_len, GW_BASE64_LAX_BITS);
    free(packed);
    return ok;
}

static bool read_attachments(struct post *p, const cJSON *list)
{
    size_t n = (size_t)cJSON_GetArraySize(list);
    if (n == 0)
        return true;
    if (n > GW_MAIL_DEFAULT_MAX_PARTS * 100u) /* compose bounds it by mail.max_parts */
        return false;
    p->files = calloc(n, sizeof *p->files);
    if (p->files == NULL)
        return !(p->oom = true);
    const cJSON *a;
    cJSON_ArrayForEach(a, list)
    {
        struct gw_mail_compose_file *f = &p->files[p->in.n_files];
        const char *content;
        if (!cJSON_IsObject(a) || !text_of(a, "Name", &f->name) ||
            !text_of(a, "ContentType", &f->content_type) ||
            !text_of(a, "ContentID", &f->content_id) || !text_of(a, "Content", &content))
            return false;
        unsigned char *data = NULL;
        bool ok = decode_base64(content != NULL ? content : "", &data, &f->len);
        if (data == NULL)
            return !(p->oom = true);
        f->data = data; /* freed with the post, whatever the decoding said */
        p->in.n_files++;
        if (!ok)
            return false;
    }
    p->in.files = p->files;
    return true;
}

/* "Name <address>" from FromFull (or From and FromName), the name a quoted string. */
static bool read_from(struct post *p)
{
    const cJSON *full = cJSON_GetObjectItemCaseSensitive(p->root, "FromFull");
    const char *email = NULL, *name = NULL;
    if (cJSON_IsObject(full)) {
        if (!text_of(full, "Email", &email) || !text_of(full, "Name", &name))
            return false;
    } else if (!text_of(p->root, "From", &email) || !text_of(p->root, "FromName", &name)) {
        return false;
    }
    if (email == NULL)
        return true;
    size_t len = 2 * (name != NULL ? strlen(name) : 0) + strlen(email) + 8;
    p->from = malloc(len);
    if (p->from == NULL)
        return !(p->oom = true);
    if (name == NULL) {
        snprintf(p->from, len, "%s", email);
        return true;
    }
    size_t at = 0;
    p->from[at++] = '"';
    for (const char *c = name; *c != '\0'; c++) {
        if (*c == '"' || *c == '\\')
            p->from[at++] = '\\';
        p->from[at++] = *c;
    }
    snprintf(p->from + at, len - at, "\" <%s>", email);
    return true;
}

/* The envelope recipient: OriginalRecipient, else the ToFull address that carries the
 * MailboxHash, else the first ToFull address; none: routing reads To and Cc. When the
 * MailboxHash is one of our thread ids (CT-000123.MAC) and the address is not already our
 * reply+ form (a Postmark inbound address, hash+...@inbound.postmarkapp.com), the recipient
 * is reply+HASH@ its domain, so the core threads it by its plus address. */
static bool read_recipient(struct post *p)
{
    const char *original, *hash;
    const cJSON *to_full;
    if (!text_of(p->root, "OriginalRecipient", &original) ||
        !text_of(p->root, "MailboxHash", &hash) || !array_of(p->root, "ToFull", &to_full))
        return false;
    p->recipient[0] = '\0';
    if (original != NULL)
        gw_mail_recipient_clean(original, p->recipient);
    const cJSON *t;
    cJSON_ArrayForEach(t, to_full)
    {
        const char *email, *its_hash;
        if (p->recipient[0] != '\0')
            break;
        if (!cJSON_IsObject(t) || !text_of(t, "Email", &email) ||
            !text_of(t, "MailboxHash", &its_hash))
            return false;
        if (email != NULL && (hash == NULL || (its_hash != NULL && strcmp(its_hash, hash) == 0)))
            gw_mail_recipient_clean(email, p->recipient);
    }
    const char *at = strrchr(p->recipient, '@');
    struct gw_mail_thread_id id;
    if (hash == NULL || at == NULL || strnlen(hash, HASH_MAX + 1) > HASH_MAX ||
        gw_mail_thread_parse(p->recipient, strlen(p->recipient), &id))
        return true;
    char reply[GW_MAIL_RECIPIENT_SIZE + HASH_MAX + 8];
    snprintf(reply, sizeof reply, "reply+%s%s", hash, at);
    char clean[GW_MAIL_RECIPIENT_SIZE];
    if (gw_mail_thread_parse(reply, strlen(reply), &id) && gw_mail_recipient_clean(reply, clean))
        memcpy(p->recipient, clean, sizeof clean);
    return true;
}

enum read_rc { READ_OK, READ_REFUSED, READ_OOM };

/* Reads the post BODY into P; on REFUSED, WHY says what is wrong with it. */
static enum read_rc post_read(const unsigned char *body, size_t len, struct post *p,
                              const char **why)
{
    memset(p, 0, sizeof *p);
    p->root = cJSON_ParseWithLength((const char *)body, len);
    *why = "invalid_json";
    if (!cJSON_IsObject(p->root))
        return READ_REFUSED;
    *why = "invalid_message_id";
    if (!text_of(p->root, "MessageID", &p->message_id) || !message_id_ok(p->message_id))
        return READ_REFUSED;
    *why = "invalid_recipient";
    if (!read_recipient(p))
        return READ_REFUSED;
    *why = "invalid_raw_email";
    if (!text_of(p->root, "RawEmail", &p->raw))
        return READ_REFUSED;
    if (p->raw != NULL)
        return gw_mail_looks_like_message((const unsigned char *)p->raw, strlen(p->raw))
                   ? READ_OK
                   : READ_REFUSED;
    const cJSON *headers, *attachments;
    *why = "invalid_field";
    if (!array_of(p->root, "Headers", &headers) ||
        !array_of(p->root, "Attachments", &attachments) || !text_of(p->root, "To", &p->in.to) ||
        !text_of(p->root, "Cc", &p->in.cc) || !text_of(p->root, "Subject", &p->in.subject) ||
        !text_of(p->root, "Date", &p->in.date) || !text_of(p->root, "TextBody", &p->in.text) ||
        !text_of(p->root, "HtmlBody", &p->in.html))
        return READ_REFUSED;
    p->in.text_len = p->in.text != NULL ? strlen(p->in.text) : 0;
    p->in.html_len = p->in.html != NULL ? strlen(p->in.html) : 0;
    *why = "invalid_headers";
    if (!read_headers(p, headers))
        return p->oom ? READ_OOM : READ_REFUSED;
    *why = "invalid_from";
    if (!read_from(p))
        return p->oom ? READ_OOM : READ_REFUSED;
    p->in.from = p->from;
    *why = "invalid_attachment";
    if (!read_attachments(p, attachments))
        return p->oom ? READ_OOM : READ_REFUSED;
    return READ_OK;
}

/* ---- hooks ----------------------------------------------------------------------------- */

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    (void)max;
    struct post p;
    const char *why = NULL;
    enum read_rc rc = post_read(in->body, in->body_len, &p, &why);
    if (rc == READ_OK) {
        snprintf(out[0].dedupe_key, sizeof out[0].dedupe_key, "%s", p.message_id);
        out[0].tenant[0] = '\0'; /* the worker finds the company (GW_PROVIDER_OWN_ROUTING) */
        *n = 1;
    } else if (rc == READ_REFUSED) {
        /* Never storable: 403 is the one answer that stops Postmark's retries. */
        gw_answer_set(answer, 403, "{\"error\":\"%s\"}", why);
    }
    post_free(&p);
    return rc == READ_OK    ? GW_ENVELOPE_STORE
           : rc == READ_OOM ? GW_ENVELOPE_UNAVAILABLE
                            : GW_ENVELOPE_ANSWER;
}

static struct gw_mail_limits limits_of(const struct gw_config *cfg)
{
    struct gw_mail_limits lim = {0}; /* zero fields take the parser's defaults */
    if (cfg != NULL) {
        lim.max_message_bytes = (size_t)cfg->mail.max_message;
        lim.max_parts = cfg->mail.max_parts;
        lim.max_header_bytes = (size_t)cfg->mail.max_header_bytes;
    }
    return lim;
}

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    struct post p;
    const char *why = NULL;
    enum read_rc rc = post_read(ctx->body, ctx->body_len, &p, &why);
    if (rc != READ_OK) {
        post_free(&p);
        snprintf(ctx->error, sizeof ctx->error, "not a Postmark inbound message: %s",
                 rc == READ_OOM ? "out of memory" : why);
        return rc == READ_OOM ? GW_APPLY_RETRY : GW_APPLY_FAILED;
    }
    struct gw_mail_delivery d = {.recipient = p.recipient};
    unsigned char *composed = NULL;
    enum gw_apply_rc ar;
    if (p.raw != NULL) {
        d.raw = (const unsigned char *)p.raw;
        d.len = strlen(p.raw);
    } else {
        struct gw_mail_limits lim = limits_of(ctx->cfg);
        p.in.limits = &lim;
        char err[200] = "";
        if (gw_mail_compose(&p.in, &composed, &d.len, err, sizeof err) != 0) {
            snprintf(ctx->error, sizeof ctx->error, "composing the message: %s", err);
            post_free(&p);
            return strcmp(err, "out of memory") == 0 ? GW_APPLY_RETRY : GW_APPLY_FAILED;
        }
        d.raw = composed;
    }
    ar = gw_mail_apply(ctx, &d);
    free(composed);
    post_free(&p);
    return ar;
}

static const struct gw_cfg_key endpoint_keys[] = {
    {.name = "company", .type = GW_CFG_SLUG, .offset = EP(company)},
    GW_KEY_USERNAME_REQUIRED,
    GW_KEY_PASSWORD_REQUIRED,
    {.name = NULL},
};

const struct gw_provider gw_provider_email_postmark = {
    .name = "email-postmark",
    .summary = "inbound e-mail from Postmark's inbound webhook (JSON)",
    .endpoint_keys = endpoint_keys,
    .flags = GW_PROVIDER_OWN_ROUTING | GW_PROVIDER_MAIL_BODY,
    .media_types = media_types,
    .source = "email",
    .max_events = 1,
    .verifier = &gw_verifier_basic_auth,
    .envelope = envelope,
    .apply = apply,
    .answer = gw_answer_stored_200,
};
