/* mailgun.c — provider `email-mailgun`: a Mailgun route's forward("https://…") POSTs one
 * message as a form, signed in its fields (verifier `mailgun`, with the token replay cache):
 * either parsed (urlencoded, or multipart with attachments; `message-headers` is the header
 * block as JSON pairs, `body-plain` and `body-html` the bodies, `attachment-N` the files) or,
 * for a route URL ending in "mime", the message itself in `body-mime`. Stored with the dedupe
 * key Message-Id + `recipient` and answered 200; 406 (Mailgun never retries it) for what is
 * refused for good; 503 when not stored (Mailgun retries for about 8 hours). A worker reads
 * the stored form again and hands the message to the mail core (apply.h), composed from the
 * parsed fields (compose.h) when there is no body-mime. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapters/endpoint_keys.h"
#include "adapters/mail/envelope.h"
#include "adapters/mail/relay.h"
#include "adapters/provider.h"
#include "config/config.h"
#include "verifiers/mailgun.h"

#define EP(field) offsetof(struct gw_endpoint_config, field)

/* Mailgun's answer that stops its retries. */
#define REFUSED 406
/* The most header pairs of message-headers read, and files of one message. */
#define HEADERS_MAX 1000
#define FILES_MAX   GW_FORM_DATA_FIELDS_MAX

static const char *const media_types[] = {"application/x-www-form-urlencoded",
                                          "multipart/form-data", NULL};

/* The envelope recipient, clean, or "" (then To and Cc route): Mailgun names one address
 * per forwarded copy; anything else (a list, a repeat) is not relied on. */
static void recipient_of(const struct gw_form_data *form, char rcpt[GW_MAIL_RECIPIENT_SIZE])
{
    if (!gw_mail_recipient_clean(gw_form_data_text(form, "recipient"), rcpt))
        rcpt[0] = '\0';
}

/* The header pairs of message-headers: name0, value0, ... pointing into JSON (kept alive by
 * the caller), at most HEADERS_MAX pairs; a pair that could break a header line (a bad name,
 * a CR, LF or NUL in the value) is left out. False when the field is there but not a JSON
 * array of [name, value] strings, or memory ran out (*NOMEM set). */
static bool header_pairs(const struct gw_form_data *form, cJSON **json, const char ***pairs,
                         size_t *n, bool *nomem)
{
    *json = NULL;
    *pairs = NULL;
    *n = 0;
    *nomem = false;
    const struct gw_form_data_field *f = gw_form_data_get(form, "message-headers");
    if (f == NULL)
        return true;
    if (gw_form_data_count(form, "message-headers") != 1)
        return false;
    *json = cJSON_ParseWithLength((const char *)f->data, f->len);
    if (!cJSON_IsArray(*json))
        return false;
    int total = cJSON_GetArraySize(*json);
    if (total > HEADERS_MAX)
        return false;
    *pairs = calloc((size_t)total * 2 + 1, sizeof **pairs);
    if (*pairs == NULL) {
        *nomem = true;
        return false;
    }
    const cJSON *pair;
    cJSON_ArrayForEach(pair, *json)
    {
        const cJSON *name = cJSON_GetArrayItem(pair, 0), *value = cJSON_GetArrayItem(pair, 1);
        if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2 || !cJSON_IsString(name) ||
            !cJSON_IsString(value))
            return false;
        if (!gw_mail_compose_field_name_ok(name->valuestring) ||
            strpbrk(value->valuestring, "\r\n") != NULL)
            continue;
        (*pairs)[2 * *n] = name->valuestring;
        (*pairs)[2 * *n + 1] = value->valuestring;
        (*n)++;
    }
    return true;
}

static void pairs_free(cJSON *json, const char **pairs)
{
    cJSON_Delete(json);
    free(pairs);
}

/* PAIRS as a header block "Name: value\r\n"... and a blank line (malloc'd, *LEN its length),
 * from which the dedupe key is read as from a raw message's; NULL when memory ran out. */
static char *header_block(const char *const *pairs, size_t n, size_t *len)
{
    size_t total = 3;
    for (size_t i = 0; i < 2 * n; i++)
        total += strlen(pairs[i]) + 2;
    char *b = malloc(total);
    if (b == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i++)
        o += (size_t)snprintf(b + o, total - o, "%s: %s\r\n", pairs[2 * i], pairs[2 * i + 1]);
    o += (size_t)snprintf(b + o, total - o, "\r\n");
    *len = o;
    return b;
}

/* The dedupe key of a parsed post: its Message-Id (or its header block's SHA-256) and the
 * recipient. UNAVAILABLE when memory ran out, ANSWER when message-headers is malformed. */
static enum gw_envelope_rc parsed_key(const struct gw_form_data *form, const char *rcpt,
                                      char key[GW_DEDUPE_KEY_MAX + 1], struct gw_answer *answer)
{
    cJSON *json;
    const char **pairs;
    size_t n;
    bool nomem;
    if (!header_pairs(form, &json, &pairs, &n, &nomem)) {
        pairs_free(json, pairs);
        if (nomem)
            return GW_ENVELOPE_UNAVAILABLE;
        gw_answer_set(answer, REFUSED, "{\"error\":\"invalid_message_headers\"}");
        return GW_ENVELOPE_ANSWER;
    }
    if (json == NULL && gw_form_data_get(form, "body-plain") == NULL &&
        gw_form_data_get(form, "body-html") == NULL) {
        gw_answer_set(answer, REFUSED, "{\"error\":\"not_a_message\"}");
        return GW_ENVELOPE_ANSWER;
    }
    /* Without message-headers, the top-level fields Mailgun also sends for them, and the
     * bodies: else every such post to one recipient would have one key, and all but the
     * first be dropped as repeats. */
    static const char *const fields[] = {"Message-Id", "Message-Id", "From", "from",
                                         "Subject",    "subject",    "Date", "Date"};
    const char *top[sizeof(fields) / sizeof(fields[0])];
    size_t n_top = 0;
    for (size_t i = 0; json == NULL && i < sizeof(fields) / sizeof(fields[0]); i += 2) {
        const char *v = gw_form_data_text(form, fields[i + 1]);
        if (v != NULL && strpbrk(v, "\r\n") == NULL) {
            top[2 * n_top] = fields[i];
            top[2 * n_top + 1] = v;
            n_top++;
        }
    }
    size_t len = 0;
    bool had_headers = json != NULL;
    char *block = had_headers ? header_block(pairs, n, &len) : header_block(top, n_top, &len);
    pairs_free(json, pairs);
    if (block == NULL)
        return GW_ENVELOPE_UNAVAILABLE;
    const struct gw_form_data_field *plain = gw_form_data_get(form, "body-plain");
    const struct gw_form_data_field *html = gw_form_data_get(form, "body-html");
    if (!had_headers) {
        size_t extra = (plain ? plain->len : 0) + (html ? html->len : 0);
        char *whole = realloc(block, len + extra + 1);
        if (whole == NULL) {
            free(block);
            return GW_ENVELOPE_UNAVAILABLE;
        }
        block = whole;
        if (plain != NULL) {
            memcpy(block + len, plain->data, plain->len);
            len += plain->len;
        }
        if (html != NULL) {
            memcpy(block + len, html->data, html->len);
            len += html->len;
        }
    }
    gw_mail_dedupe_key((const unsigned char *)block, len, rcpt, key);
    free(block);
    return GW_ENVELOPE_STORE;
}

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    (void)max;
    struct gw_form_data *form = NULL;
    enum gw_envelope_rc rc = gw_relay_form_inbound(in, REFUSED, &form, answer);
    if (rc != GW_ENVELOPE_STORE)
        return rc;
    char rcpt[GW_MAIL_RECIPIENT_SIZE];
    recipient_of(form, rcpt);
    const struct gw_form_data_field *mime = gw_form_data_get(form, "body-mime");
    if (mime != NULL) {
        if (gw_form_data_count(form, "body-mime") != 1 ||
            !gw_mail_looks_like_message(mime->data, mime->len)) {
            gw_answer_set(answer, REFUSED, "{\"error\":\"not_a_message\"}");
            rc = GW_ENVELOPE_ANSWER;
        } else {
            gw_mail_dedupe_key(mime->data, mime->len, rcpt, out[0].dedupe_key);
        }
    } else {
        rc = parsed_key(form, rcpt, out[0].dedupe_key, answer);
    }
    gw_form_data_free(form);
    if (rc == GW_ENVELOPE_STORE) {
        out[0].tenant[0] = '\0'; /* the worker finds the company (GW_PROVIDER_OWN_ROUTING) */
        *n = 1;
    }
    return rc;
}

/* The attachments attachment-1 … attachment-N in order, with the Content-IDs content-id-map
 * ({"<cid>": "attachment-1", ...}) gives them. Returns how many were set in FILES. */
static size_t files_of(const struct gw_form_data *form, struct gw_mail_compose_file *files,
                       char cids[][GW_FORM_DATA_FILENAME_MAX + 1])
{
    cJSON *map = NULL;
    const struct gw_form_data_field *m = gw_form_data_get(form, "content-id-map");
    if (m != NULL)
        map = cJSON_ParseWithLength((const char *)m->data, m->len);
    const cJSON *entries = cJSON_IsObject(map) ? map : NULL;
    size_t n = 0;
    for (size_t i = 0; i < form->n && n < FILES_MAX; i++) {
        const struct gw_form_data_field *f = &form->fields[i];
        if (strncmp(f->name, "attachment-", 11) != 0 || strcmp(f->name, "attachment-count") == 0)
            continue;
        gw_relay_file(f, &files[n]);
        const cJSON *entry;
        cJSON_ArrayForEach(entry, entries)
        {
            size_t kl = entry->string != NULL ? strlen(entry->string) : 0;
            if (!cJSON_IsString(entry) || strcmp(entry->valuestring, f->name) != 0 || kl < 3 ||
                kl - 2 > GW_FORM_DATA_FILENAME_MAX)
                continue;
            /* "<cid>" without its brackets, as Content-IDs are handed to compose. */
            const char *k = entry->string;
            size_t s = k[0] == '<' ? 1 : 0, e = k[kl - 1] == '>' ? kl - 1 : kl;
            snprintf(cids[n], GW_FORM_DATA_FILENAME_MAX + 1, "%.*s", (int)(e - s), k + s);
            files[n].content_id = cids[n];
            break;
        }
        n++;
    }
    cJSON_Delete(map);
    return n;
}

/* The parsed post composed into a message and applied. */
static enum gw_apply_rc apply_parsed(struct gw_apply *ctx, const struct gw_form_data *form,
                                     const char *rcpt)
{
    cJSON *json;
    const char **pairs;
    size_t n_pairs;
    bool nomem;
    if (!header_pairs(form, &json, &pairs, &n_pairs, &nomem)) {
        pairs_free(json, pairs);
        snprintf(ctx->error, sizeof ctx->error, "%s",
                 nomem ? "out of memory" : "message-headers is not a JSON array of pairs");
        return nomem ? GW_APPLY_RETRY : GW_APPLY_FAILED;
    }
    struct gw_mail_compose_file *files = calloc(FILES_MAX, sizeof *files);
    char(*cids)[GW_FORM_DATA_FILENAME_MAX + 1] = calloc(FILES_MAX, sizeof *cids);
    if (files == NULL || cids == NULL) {
        free(files);
        free(cids);
        pairs_free(json, pairs);
        snprintf(ctx->error, sizeof ctx->error, "out of memory");
        return GW_APPLY_RETRY;
    }
    const struct gw_form_data_field *text = gw_form_data_get(form, "body-plain");
    const struct gw_form_data_field *html = gw_form_data_get(form, "body-html");
    /* Mailgun's fields are UTF-8; the top-level header fields stand in where
     * message-headers lacks them. */
    struct gw_mail_compose c = {
        .header_pairs = pairs,
        .n_header_pairs = n_pairs,
        .from = gw_form_data_text(form, "from"),
        .to = gw_form_data_text(form, "To"),
        .cc = gw_form_data_text(form, "Cc"),
        .subject = gw_form_data_text(form, "subject"),
        .date = gw_form_data_text(form, "Date"),
        .text = text != NULL ? (const char *)text->data : NULL,
        .text_len = text != NULL ? text->len : 0,
        .text_charset = "utf-8",
        .html = html != NULL ? (const char *)html->data : NULL,
        .html_len = html != NULL ? html->len : 0,
        .html_charset = "utf-8",
        .files = files,
    };
    c.n_files = files_of(form, files, cids);
    enum gw_apply_rc rc = gw_relay_apply_composed(ctx, &c, rcpt);
    free(files);
    free(cids);
    pairs_free(json, pairs);
    return rc;
}

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    struct gw_form_data *form = NULL;
    enum gw_apply_rc rc = gw_relay_form_stored(ctx, &form);
    if (rc != GW_APPLY_DONE)
        return rc;
    char rcpt[GW_MAIL_RECIPIENT_SIZE];
    recipient_of(form, rcpt);
    const struct gw_form_data_field *mime = gw_form_data_get(form, "body-mime");
    rc = mime != NULL ? gw_relay_apply_raw(ctx, mime->data, mime->len, rcpt)
                      : apply_parsed(ctx, form, rcpt);
    gw_form_data_free(form);
    return rc;
}

static const struct gw_cfg_key endpoint_keys[] = {
    GW_KEY_SECRETS,
    GW_KEY_TOLERANCE,
    {.name = "company", .type = GW_CFG_SLUG, .offset = EP(company)},
    {.name = NULL},
};

const struct gw_provider gw_provider_email_mailgun = {
    .name = "email-mailgun",
    .summary = "inbound e-mail from Mailgun routes (parsed forms or the mime route)",
    .endpoint_keys = endpoint_keys,
    .flags = GW_PROVIDER_OWN_ROUTING | GW_PROVIDER_MAIL_BODY,
    .media_types = media_types,
    .source = "email",
    .stored_headers = gw_relay_stored_headers,
    .max_events = 1,
    .verifier = &gw_verifier_mailgun,
    .envelope = envelope,
    .apply = apply,
    .answer = gw_answer_stored_200,
};
