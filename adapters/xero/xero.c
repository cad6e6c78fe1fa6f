/* xero.c — provider `xero`: Xero accounting webhooks. A delivery carries pointers to what
 * changed (several events, several tenants); each event is one inbox row keyed by tenant,
 * category, resource, type and date. Workers fetch the invoice or contact from the
 * Accounting API (xero_api.c) and bring invoices, clients and jobs' billing status up to
 * date. Xero disables an endpoint that answers wrongly or slowly: every verified delivery
 * is answered 200 with an empty body as soon as it is stored, a bad signature 401 empty. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "adapters/endpoint_keys.h"
#include "adapters/provider.h"
#include "adapters/xero/api.h"
#include "adapters/xero/config.h"
#include "adapters/xero/events.h"
#include "adapters/xero/parse.h"
#include "config/config.h"
#include "gateway/core/invoices.h"
#include "gateway/core/jobs.h"
#include "gateway/base/log.h"
#include "verifiers/xero.h"

/* ------------------------------------------------------------------ storing */

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    struct gw_xero_span *spans = calloc(max ? max : 1, sizeof(*spans));
    if (spans == NULL)
        return GW_ENVELOPE_UNAVAILABLE;
    /* Well-formed JSON first (cJSON, bounded by the endpoint's max_body), then the spans. */
    cJSON *root = cJSON_ParseWithLength((const char *)in->body, in->body_len);
    long count = root != NULL && cJSON_IsObject(root)
                     ? gw_xero_event_spans(in->body, in->body_len, spans, max)
                     : -1;
    const cJSON *events = root ? cJSON_GetObjectItemCaseSensitive(root, "events") : NULL;
    if (count >= 0 && cJSON_IsArray(events) && cJSON_GetArraySize(events) != count)
        count = -1; /* the spans are not the array cJSON read: refuse rather than guess */
    enum gw_envelope_rc rc = GW_ENVELOPE_ANSWER;
    if (count < 0) {
        size_t total = cJSON_IsArray(events) ? (size_t)cJSON_GetArraySize(events) : 0;
        if (total > max) {
            /* More events than one request may store: answering 503 makes Xero retry
             * (and, for a day, fail again); say so loudly. */
            gw_answer_set(answer, 503, NULL);
            answer->retry_after_s = 60;
            answer->audit_reason = "xero delivery with more events than ctgw stores at once";
        } else {
            gw_answer_set(answer, 400, NULL);
        }
    } else if (count == 0) {
        gw_answer_set(answer, 200, NULL); /* intent to receive, or an empty batch */
    } else {
        rc = GW_ENVELOPE_STORE;
        for (long i = 0; i < count && rc == GW_ENVELOPE_STORE; i++) {
            struct gw_xero_event e;
            if (gw_xero_read_event((const char *)in->body + spans[i].start, spans[i].len, &e) !=
                NULL) {
                gw_answer_set(answer, 400, NULL);
                rc = GW_ENVELOPE_ANSWER;
                break;
            }
            snprintf(out[i].dedupe_key, sizeof(out[i].dedupe_key), "%s:%s:%s:%s:%s", e.tenant,
                     e.category, e.resource, e.type, e.date);
            snprintf(out[i].tenant, sizeof(out[i].tenant), "%s", e.tenant);
            out[i].body = in->body + spans[i].start;
            out[i].body_len = spans[i].len;
        }
        if (rc == GW_ENVELOPE_STORE)
            *n = (size_t)count;
    }
    cJSON_Delete(root);
    free(spans);
    return rc;
}

/* Xero reads only the status: an empty 200 for everything stored or deliberately ignored
 * (503 when it could not be stored is the gateway's, from the descriptor). */
static void answer(enum gw_outcome outcome, const struct gw_stored *stored, struct gw_answer *a)
{
    (void)outcome;
    (void)stored;
    gw_answer_set(a, 200, NULL);
}

/* ------------------------------------------------------------------ fetch and apply */

static enum gw_apply_rc fetch(struct gw_fetch *f)
{
    struct gw_xero_event e;
    if (gw_xero_read_event((const char *)f->body, f->body_len, &e) != NULL) {
        snprintf(f->error, sizeof(f->error), "stored xero event no longer reads");
        return GW_APPLY_FAILED;
    }
    const char *collection = strcmp(e.category, "INVOICE") == 0   ? "Invoices"
                             : strcmp(e.category, "CONTACT") == 0 ? "Contacts"
                                                                  : NULL;
    if (collection == NULL)
        return GW_APPLY_DONE; /* nothing to fetch: apply says it is not handled */
    return gw_xero_get(f, e.tenant, collection, e.resource, &f->fetched);
}

static const char *text_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring[0] != '\0' ? v->valuestring : NULL;
}

static double number_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* The item of Xero's {"Invoices":[…]} or {"Contacts":[…]} whose id is the event's. */
static const cJSON *item_of(const cJSON *root, const char *list, const char *id_key, const char *id)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, list);
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        const char *v = text_of(it, id_key);
        if (v != NULL && strcasecmp(v, id) == 0)
            return it;
    }
    return NULL;
}

static int64_t updated_ms(const cJSON *o)
{
    const char *s = text_of(o, "UpdatedDateUTC");
    int64_t ms = s ? gw_xero_date_ms(s) : -1;
    return ms > 0 ? ms : 0;
}

static enum gw_apply_rc core_result(struct gw_apply *ctx, enum gw_core_rc rc)
{
    if (rc == GW_CORE_OK)
        return GW_APPLY_DONE;
    snprintf(ctx->error, sizeof(ctx->error), "%s", ctx->core.err);
    return rc == GW_CORE_DB_ERROR ? GW_APPLY_RETRY : GW_APPLY_FAILED;
}

static char *result_json(cJSON *o)
{
    char *s = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return s;
}

static enum gw_apply_rc apply_contact(struct gw_apply *ctx, const cJSON *c)
{
    const char *phone = NULL;
    char phone_buf[80];
    const cJSON *ph;
    cJSON_ArrayForEach(ph, cJSON_GetObjectItemCaseSensitive(c, "Phones"))
    {
        const char *num = text_of(ph, "PhoneNumber");
        const char *type = text_of(ph, "PhoneType");
        if (num == NULL || (phone != NULL && (type == NULL || strcmp(type, "DEFAULT") != 0)))
            continue;
        snprintf(phone_buf, sizeof(phone_buf), "%s%s%s%s%s",
                 text_of(ph, "PhoneCountryCode") ? "+" : "",
                 text_of(ph, "PhoneCountryCode") ? text_of(ph, "PhoneCountryCode") : "",
                 text_of(ph, "PhoneAreaCode") ? " " : "",
                 text_of(ph, "PhoneAreaCode") ? text_of(ph, "PhoneAreaCode") : "", "");
        size_t used = strlen(phone_buf);
        snprintf(phone_buf + used, sizeof(phone_buf) - used, "%s%s", used ? " " : "", num);
        phone = phone_buf;
    }
    const char *status = text_of(c, "ContactStatus");
    struct gw_accounting_contact x = {
        .contact_id = text_of(c, "ContactID"),
        .name = text_of(c, "Name"),
        .email = text_of(c, "EmailAddress"),
        .phone = phone,
        .archived = status != NULL && strcmp(status, "ACTIVE") != 0,
        .updated_ms = updated_ms(c),
    };
    uint64_t client_id = 0;
    bool changed = false;
    enum gw_apply_rc rc =
        core_result(ctx, gw_client_sync_contact(&ctx->core, &x, &client_id, &changed));
    if (rc != GW_APPLY_DONE)
        return rc;
    /* A contact merged into another (Xero archives it and names the survivor): its jobs,
     * invoices and people belong to the survivor's client from now on. */
    const char *merged = text_of(c, "MergedToContactID");
    uint64_t into = 0;
    if (changed && x.archived && merged != NULL && gw_xero_guid_ok(merged) &&
        strcasecmp(merged, x.contact_id) != 0) {
        long long users_left = 0;
        rc = core_result(ctx, gw_client_for_contact(&ctx->core, merged, x.name, &into));
        if (rc == GW_APPLY_DONE)
            rc = core_result(ctx, gw_client_merge(&ctx->core, client_id, into, &users_left));
        if (rc != GW_APPLY_DONE)
            return rc;
        if (users_left > 0)
            gw_log_warn(NULL,
                        "xero merged contact %s into %s: %lld client user(s) of company %llu "
                        "still belong to the merged-away client; move them by hand if they "
                        "should see the merged client's jobs",
                        x.contact_id, merged, users_left, (unsigned long long)ctx->core.company_id);
    }
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddNumberToObject(o, "client_id", (double)client_id);
        cJSON_AddBoolToObject(o, "changed", changed);
        if (into != 0)
            cJSON_AddNumberToObject(o, "merged_into_client_id", (double)into);
    }
    ctx->result = result_json(o);
    return GW_APPLY_DONE;
}

/* The billing status an ACCREC invoice gives its job; NULL: leave it (a draft). */
static const char *billing_of(const char *status, double paid, double due)
{
    if (strcmp(status, "AUTHORISED") == 0 || strcmp(status, "SUBMITTED") == 0)
        return paid > 0 && due > 0 ? "part_paid" : "invoiced";
    if (strcmp(status, "PAID") == 0)
        return "paid";
    if (strcmp(status, "VOIDED") == 0 || strcmp(status, "DELETED") == 0)
        return "void";
    return NULL;
}

/* A job ref in the Reference, else in a line item's description. */
static bool ref_in_invoice(const cJSON *inv, char ref[32])
{
    if (gw_xero_find_ref(text_of(inv, "Reference"), ref))
        return true;
    const cJSON *li;
    cJSON_ArrayForEach(li, cJSON_GetObjectItemCaseSensitive(inv, "LineItems"))
    {
        if (gw_xero_find_ref(text_of(li, "Description"), ref))
            return true;
    }
    return false;
}

static enum gw_apply_rc apply_invoice(struct gw_apply *ctx, const cJSON *inv)
{
    char total[32], due[32], paid[32], due_date[11];
    bool has_total = gw_xero_amount(inv, "Total", total);
    bool has_due = gw_xero_amount(inv, "AmountDue", due);
    bool has_paid = gw_xero_amount(inv, "AmountPaid", paid);
    const char *due_text =
        text_of(inv, "DueDate") ? text_of(inv, "DueDate") : text_of(inv, "DueDateString");
    bool has_due_date = due_text != NULL && gw_xero_date_ymd(due_text, due_date);
    const char *type = text_of(inv, "Type");
    const char *status = text_of(inv, "Status");
    const char *number = text_of(inv, "InvoiceNumber");
    const char *invoice_id = text_of(inv, "InvoiceID");
    if (type == NULL || status == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "xero invoice %s has no Type or Status",
                 invoice_id);
        return GW_APPLY_FAILED;
    }
    uint64_t client_id = 0;
    const cJSON *contact = cJSON_GetObjectItemCaseSensitive(inv, "Contact");
    const char *contact_id = text_of(contact, "ContactID");
    if (contact_id != NULL) {
        const char *name = text_of(contact, "Name");
        enum gw_apply_rc rc =
            core_result(ctx, gw_client_for_contact(&ctx->core, contact_id, name ? name : contact_id,
                                                   &client_id));
        if (rc != GW_APPLY_DONE)
            return rc;
    }
    struct gw_invoice_in in = {
        .invoice_id = invoice_id,
        .number = number,
        .reference = text_of(inv, "Reference"),
        .type = type,
        .status = status,
        .currency = text_of(inv, "CurrencyCode"),
        .total = has_total ? total : NULL,
        .amount_due = has_due ? due : NULL,
        .amount_paid = has_paid ? paid : NULL,
        .due_date = has_due_date ? due_date : NULL,
        .client_id = client_id,
        .updated_ms = updated_ms(inv),
    };
    uint64_t row = 0, job_id = 0;
    bool changed = false;
    enum gw_apply_rc rc =
        core_result(ctx, gw_invoice_sync(&ctx->core, &in, &row, &job_id, &changed));
    if (rc != GW_APPLY_DONE)
        return rc;
    const char *label = number ? number : invoice_id;
    const char *billing = NULL;
    char ref[32] = "";
    /* Bills (ACCPAY) are what the company owes: stored, never tied to a customer's job. */
    if (changed && strcmp(type, "ACCREC") == 0) {
        if (job_id == 0 && ref_in_invoice(inv, ref)) {
            uint64_t found = 0;
            enum gw_core_rc frc = gw_job_find(&ctx->core, ref, &found);
            if (frc == GW_CORE_DB_ERROR)
                return core_result(ctx, frc);
            if (frc == GW_CORE_OK && found != 0) {
                if ((rc = core_result(ctx, gw_invoice_link_job(&ctx->core, row, found, label))) !=
                    GW_APPLY_DONE)
                    return rc;
                job_id = found;
            }
        }
        billing = billing_of(status, number_of(inv, "AmountPaid"), number_of(inv, "AmountDue"));
        if (job_id != 0 && billing != NULL &&
            (rc = core_result(ctx, gw_job_set_billing_status(&ctx->core, job_id, billing,
                                                             label))) != GW_APPLY_DONE)
            return rc;
    }
    cJSON *o = cJSON_CreateObject();
    if (o != NULL) {
        cJSON_AddNumberToObject(o, "invoice_id", (double)row);
        cJSON_AddBoolToObject(o, "changed", changed);
        if (job_id != 0)
            cJSON_AddNumberToObject(o, "job_id", (double)job_id);
        if (job_id != 0 && billing != NULL)
            cJSON_AddStringToObject(o, "billing_status", billing);
    }
    ctx->result = result_json(o);
    return GW_APPLY_DONE;
}

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    struct gw_xero_event e;
    if (gw_xero_read_event((const char *)ctx->body, ctx->body_len, &e) != NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "stored xero event no longer reads");
        return GW_APPLY_FAILED;
    }
    if (ctx->fetched == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "xero %s events are not handled", e.category);
        return GW_APPLY_IGNORED;
    }
    cJSON *root = cJSON_Parse(ctx->fetched);
    bool invoice = strcmp(e.category, "INVOICE") == 0;
    const cJSON *item = root == NULL ? NULL
                        : invoice    ? item_of(root, "Invoices", "InvoiceID", e.resource)
                                     : item_of(root, "Contacts", "ContactID", e.resource);
    enum gw_apply_rc rc;
    if (item == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "xero answered without %s %s",
                 invoice ? "invoice" : "contact", e.resource);
        rc = GW_APPLY_RETRY;
    } else {
        rc = invoice ? apply_invoice(ctx, item) : apply_contact(ctx, item);
    }
    cJSON_Delete(root);
    return rc;
}

/* ------------------------------------------------------------------ the descriptor */

static const char *const media_types[] = {"application/json", NULL};

static const struct gw_cfg_key endpoint_keys[] = {
    /* Xero's webhook key: one per app, no overlap when it is regenerated; a list so the
     * old and new key can both be configured during the cut-over. */
    GW_KEY_SECRETS,
    {.name = NULL},
};

#define CFG(field) offsetof(struct gw_xero_config, field)
static const struct gw_cfg_key config_keys[] = {
    {.name = "api_base", .type = GW_CFG_STRING, .offset = CFG(api_base), .min = 8, .max = 512},
    {.name = "token_url", .type = GW_CFG_STRING, .offset = CFG(token_url), .min = 8, .max = 512},
    {.name = "client_id", .type = GW_CFG_STRING, .offset = CFG(client_id), .min = 1, .max = 255},
    {.name = "client_secret", .type = GW_CFG_SECRET, .offset = CFG(client_secret), .min = 16},
    {.name = "calls_per_minute",
     .type = GW_CFG_UINT,
     .offset = CFG(calls_per_minute),
     .min = 1,
     .max = 60,
     .def = 55},
    {.name = NULL},
};

const struct gw_provider gw_provider_xero = {
    .name = "xero",
    .summary = "Xero accounting webhooks (invoices, contacts)",
    .endpoint_keys = endpoint_keys,
    .config_keys = config_keys,
    .config_size = sizeof(struct gw_xero_config),
    .media_types = media_types,
    .source = "xero",
    /* Xero's batch size is not documented; a delivery is bounded by max_body anyway. */
    .max_events = 1000,
    .rejected_body = "",
    /* Xero reads only the status; a 503 makes it retry. */
    .unavailable = {.status = 503, .retry_after_s = 30, .body = ""},
    .verifier = &gw_verifier_xero,
    .envelope = envelope,
    .fetch = fetch,
    .apply = apply,
    .answer = answer,
};
