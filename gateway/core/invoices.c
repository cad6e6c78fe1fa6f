/* invoices.c — clients by accounting contact, invoices and billing status, on the caller's
 * transaction and scoped to the context's company. */
#include "gateway/core/invoices.h"
#include "gateway/base/text.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column bounds of 0001_core_schema.sql (characters). */
#define CONTACT_ID_CHARS 64
#define NAME_CHARS       200
#define EMAIL_BYTES      254
#define PHONE_CHARS      64
#define NUMBER_CHARS     64
#define REFERENCE_CHARS  255
#define TYPE_CHARS       16
#define STATUS_CHARS     16

static const char *const billing_statuses[] = {"unbilled", "invoiced", "part_paid",
                                               "paid",     "void",     NULL};

static bool ready(struct gw_core_ctx *c)
{
    if (c == NULL || c->db == NULL || c->company_id == 0)
        return false;
    c->err[0] = '\0';
    return true;
}

/* A text that fits its column once valid UTF-8 (NULL and "" pass as absent). */
static bool fits(const char *s, size_t max_chars)
{
    if (s == NULL || *s == '\0')
        return true;
    size_t chars = 0;
    return gw_text_utf8_chars(s, strlen(s), &chars) && chars <= max_chars;
}

/* A display text cut to what its column holds (max_chars characters, never inside a UTF-8
 * sequence), into buf when it must be cut: accounting systems allow longer invoice numbers
 * (Xero: 255) and names than these columns, and a long one must not fail the invoice. Ids
 * are never cut. NULL stays NULL. */
static const char *clip(const char *s, size_t max_chars, char *buf, size_t cap)
{
    if (s == NULL)
        return NULL;
    size_t i = 0, chars = 0;
    while (s[i] != '\0' && chars < max_chars && i < cap - 4) {
        size_t k = 1;
        while ((s[i + k] & 0xC0) == 0x80 && k < 4)
            k++;
        i += k;
        chars++;
    }
    if (s[i] == '\0')
        return s;
    memcpy(buf, s, i);
    buf[i] = '\0';
    return buf;
}

static struct gw_db_value opt_text(const char *s)
{
    return s != NULL && *s != '\0' ? GW_DB_TEXT(s) : GW_DB_NULL;
}

/* Decimal text as the DECIMAL(18,4) columns take it: digits, one optional point, at most
 * four decimals, an optional leading minus. */
static bool decimal_ok(const char *s)
{
    if (s == NULL)
        return true;
    const char *p = s;
    if (*p == '-')
        p++;
    size_t whole = 0, frac = 0;
    while (*p >= '0' && *p <= '9') {
        p++;
        whole++;
    }
    if (*p == '.') {
        p++;
        while (*p >= '0' && *p <= '9') {
            p++;
            frac++;
        }
    }
    return *p == '\0' && whole >= 1 && whole <= 14 && frac <= 4;
}

static bool date_ok(const char *s)
{
    if (s == NULL)
        return true;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    for (int i = 0; i < 10; i++)
        if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
            return false;
    return true;
}

enum gw_core_rc gw_client_for_contact(struct gw_core_ctx *c, const char *contact_id,
                                      const char *name, uint64_t *client_id)
{
    if (!ready(c) || contact_id == NULL || client_id == NULL)
        return GW_CORE_INVALID;
    if (*contact_id == '\0' || !fits(contact_id, CONTACT_ID_CHARS))
        return gw_core_fail(c, GW_CORE_INVALID, "contact id is empty or too long");
    char name_buf[NAME_CHARS * 4 + 4];
    name = clip(name, NAME_CHARS, name_buf, sizeof(name_buf));
    if (name == NULL || *name == '\0' || !fits(name, NAME_CHARS))
        return gw_core_fail(c, GW_CORE_INVALID, "contact %s has no usable name", contact_id);
    /* One statement: the unique key (company_id, xero_contact_id) decides between two
     * workers, and LAST_INSERT_ID(id) reports the existing row on a match, whose name the
     * contact's own event keeps up to date. */
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(name), GW_DB_TEXT(contact_id)};
    if (gw_db_exec(c->db,
                   "INSERT INTO clients (company_id, name, xero_contact_id) VALUES (?, ?, ?) "
                   "ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id)",
                   p, 3) < 0)
        return gw_core_db_fail(c, "saving the client");
    *client_id = gw_db_last_insert_id(c->db);
    return *client_id ? GW_CORE_OK : gw_core_fail(c, GW_CORE_DB_ERROR, "the client has no id");
}

/* The stored row of an accounting id (locked), with its last change in ms (0: unknown). */
static enum gw_core_rc find_locked(struct gw_core_ctx *c, const char *sql, const char *ext_id,
                                   uint64_t *id, int64_t *updated_ms, uint64_t *extra)
{
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(ext_id)};
    struct gw_db_rows *rows = gw_db_query(c->db, sql, p, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "reading the stored row");
    *id = 0;
    *updated_ms = 0;
    if (gw_db_rows_count(rows) == 1) {
        *id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
        *updated_ms = gw_db_rows_int(rows, 0, 1, 0);
        if (extra != NULL)
            *extra = (uint64_t)gw_db_rows_int(rows, 0, 2, 0);
    }
    gw_db_rows_free(rows);
    return GW_CORE_OK;
}

enum gw_core_rc gw_client_sync_contact(struct gw_core_ctx *c, const struct gw_accounting_contact *x,
                                       uint64_t *client_id, bool *changed)
{
    if (!ready(c) || x == NULL || client_id == NULL || changed == NULL)
        return GW_CORE_INVALID;
    *changed = false;
    if (x->contact_id == NULL || *x->contact_id == '\0' || !fits(x->contact_id, CONTACT_ID_CHARS))
        return gw_core_fail(c, GW_CORE_INVALID, "contact id is empty or too long");
    char name_buf[NAME_CHARS * 4 + 4];
    const char *name = clip(x->name, NAME_CHARS, name_buf, sizeof(name_buf));
    if (name == NULL || *name == '\0' || !fits(name, NAME_CHARS))
        return gw_core_fail(c, GW_CORE_INVALID, "contact %s has no usable name", x->contact_id);
    const char *email = x->email;
    if (email != NULL && (*email == '\0' || strlen(email) > EMAIL_BYTES ||
                          !gw_text_email_valid(email, strlen(email))))
        email = NULL; /* an address Xero accepted but we cannot use is left out, not fatal */
    const char *phone = x->phone != NULL && fits(x->phone, PHONE_CHARS) ? x->phone : NULL;

    int64_t stored_ms = 0;
    enum gw_core_rc rc = find_locked(c,
                                     "SELECT id, COALESCE(FLOOR(UNIX_TIMESTAMP(xero_updated_at) * "
                                     "1000), 0) FROM clients WHERE company_id = ? AND "
                                     "xero_contact_id = ? FOR UPDATE",
                                     x->contact_id, client_id, &stored_ms, NULL);
    if (rc != GW_CORE_OK)
        return rc;
    if (*client_id != 0 && x->updated_ms != 0 && stored_ms >= x->updated_ms)
        return GW_CORE_OK; /* what we have is as new or newer: an out-of-order delivery */
    struct gw_db_value p[] = {
        GW_DB_TEXT(name),          opt_text(email),          opt_text(phone),
        GW_DB_INT(x->archived),    GW_DB_INT(x->updated_ms), GW_DB_INT(c->company_id),
        GW_DB_TEXT(x->contact_id),
    };
    if (*client_id != 0) {
        if (gw_db_exec(c->db,
                       "UPDATE clients SET name = ?, email = ?, phone = ?, deleted_at = IF(?, "
                       "COALESCE(deleted_at, UTC_TIMESTAMP(3)), NULL), xero_updated_at = "
                       "IF(? > 0, FROM_UNIXTIME(? / 1000), xero_updated_at) "
                       "WHERE company_id = ? AND xero_contact_id = ?",
                       (struct gw_db_value[]){p[0], p[1], p[2], p[3], p[4], p[4], p[5], p[6]},
                       8) < 0)
            return gw_core_db_fail(c, "updating the client");
    } else {
        if (gw_db_exec(c->db,
                       "INSERT INTO clients (name, email, phone, deleted_at, xero_updated_at, "
                       "company_id, xero_contact_id) VALUES (?, ?, ?, IF(?, UTC_TIMESTAMP(3), "
                       "NULL), IF(? > 0, FROM_UNIXTIME(? / 1000), NULL), ?, ?)",
                       (struct gw_db_value[]){p[0], p[1], p[2], p[3], p[4], p[4], p[5], p[6]},
                       8) < 0)
            return gw_core_db_fail(c, "creating the client");
        *client_id = gw_db_last_insert_id(c->db);
    }
    *changed = true;
    return GW_CORE_OK;
}

enum gw_core_rc gw_client_merge(struct gw_core_ctx *c, uint64_t from, uint64_t to,
                                long long *users_left)
{
    if (!ready(c) || from == 0 || to == 0 || users_left == NULL)
        return GW_CORE_INVALID;
    *users_left = 0;
    if (from == to)
        return GW_CORE_OK;
    /* The history first, while the jobs still name `from`; one statement for all of them. */
    struct gw_db_value e[] = {GW_DB_INT(from),
                              GW_DB_INT(to),
                              GW_DB_TEXT(c->source ? c->source : "api"),
                              c->webhook_event_id ? GW_DB_INT(c->webhook_event_id) : GW_DB_NULL,
                              GW_DB_INT(c->company_id),
                              GW_DB_INT(from)};
    if (gw_db_exec(c->db,
                   "INSERT INTO job_events (company_id, job_id, kind, detail, source, "
                   "webhook_event_id) SELECT company_id, id, 'client_merged', "
                   "JSON_OBJECT('from_client_id', ?, 'to_client_id', ?), ?, ? FROM jobs "
                   "WHERE company_id = ? AND client_id = ?",
                   e, 6) < 0)
        return gw_core_db_fail(c, "writing the jobs' history of the merge");
    static const char *const moves[] = {
        "UPDATE jobs SET client_id = ? WHERE company_id = ? AND client_id = ?",
        "UPDATE invoices SET client_id = ? WHERE company_id = ? AND client_id = ?",
        "UPDATE contacts SET client_id = ? WHERE company_id = ? AND client_id = ?",
    };
    for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
        struct gw_db_value p[] = {GW_DB_INT(to), GW_DB_INT(c->company_id), GW_DB_INT(from)};
        if (gw_db_exec(c->db, moves[i], p, 3) < 0)
            return gw_core_db_fail(c, "moving the merged client's rows");
    }
    struct gw_db_value u[] = {GW_DB_INT(c->company_id), GW_DB_INT(from)};
    struct gw_db_rows *rows = gw_db_query(
        c->db, "SELECT COUNT(*) FROM users WHERE company_id = ? AND client_id = ?", u, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "counting the merged client's users");
    *users_left = gw_db_rows_int(rows, 0, 0, 0);
    gw_db_rows_free(rows);
    return GW_CORE_OK;
}

enum gw_core_rc gw_invoice_sync(struct gw_core_ctx *c, const struct gw_invoice_in *in,
                                uint64_t *invoice_id, uint64_t *job_id, bool *changed)
{
    if (!ready(c) || in == NULL || invoice_id == NULL || job_id == NULL || changed == NULL)
        return GW_CORE_INVALID;
    *changed = false;
    *job_id = 0;
    if (in->invoice_id == NULL || *in->invoice_id == '\0' ||
        !fits(in->invoice_id, CONTACT_ID_CHARS))
        return gw_core_fail(c, GW_CORE_INVALID, "invoice id is empty or too long");
    if (in->type == NULL || *in->type == '\0' || !fits(in->type, TYPE_CHARS) ||
        in->status == NULL || *in->status == '\0' || !fits(in->status, STATUS_CHARS))
        return gw_core_fail(c, GW_CORE_INVALID, "invoice %s has no usable type or status",
                            in->invoice_id);
    char number_buf[NUMBER_CHARS * 4 + 4], reference_buf[REFERENCE_CHARS * 4 + 4];
    const char *number = clip(in->number, NUMBER_CHARS, number_buf, sizeof(number_buf));
    const char *reference =
        clip(in->reference, REFERENCE_CHARS, reference_buf, sizeof(reference_buf));
    if (!fits(number, NUMBER_CHARS) || !fits(reference, REFERENCE_CHARS))
        return gw_core_fail(c, GW_CORE_INVALID, "invoice %s: number or reference too long",
                            in->invoice_id);
    if (in->currency != NULL && strlen(in->currency) != 3)
        return gw_core_fail(c, GW_CORE_INVALID, "invoice %s: currency is not an ISO 4217 code",
                            in->invoice_id);
    if (!decimal_ok(in->total) || !decimal_ok(in->amount_due) || !decimal_ok(in->amount_paid))
        return gw_core_fail(c, GW_CORE_INVALID, "invoice %s: an amount is out of range",
                            in->invoice_id);
    if (!date_ok(in->due_date))
        return gw_core_fail(c, GW_CORE_INVALID, "invoice %s: due date is not YYYY-MM-DD",
                            in->invoice_id);

    int64_t stored_ms = 0;
    enum gw_core_rc rc = find_locked(c,
                                     "SELECT id, COALESCE(FLOOR(UNIX_TIMESTAMP(xero_updated_at) * "
                                     "1000), 0), COALESCE(job_id, 0) FROM invoices WHERE "
                                     "company_id = ? AND xero_invoice_id = ? FOR UPDATE",
                                     in->invoice_id, invoice_id, &stored_ms, job_id);
    if (rc != GW_CORE_OK)
        return rc;
    if (*invoice_id != 0 && in->updated_ms != 0 && stored_ms >= in->updated_ms)
        return GW_CORE_OK;
    struct gw_db_value p[] = {
        opt_text(number),          opt_text(reference),
        GW_DB_TEXT(in->type),      GW_DB_TEXT(in->status),
        opt_text(in->currency),    opt_text(in->total),
        opt_text(in->amount_due),  opt_text(in->amount_paid),
        opt_text(in->due_date),    in->client_id ? GW_DB_INT(in->client_id) : GW_DB_NULL,
        GW_DB_INT(in->updated_ms), GW_DB_INT(in->updated_ms),
        GW_DB_INT(c->company_id),  GW_DB_TEXT(in->invoice_id),
    };
    if (*invoice_id != 0) {
        if (gw_db_exec(c->db,
                       "UPDATE invoices SET number = ?, reference = ?, type = ?, status = ?, "
                       "currency = ?, total = ?, amount_due = ?, amount_paid = ?, due_date = ?, "
                       "client_id = ?, xero_updated_at = IF(? > 0, FROM_UNIXTIME(? / 1000), "
                       "xero_updated_at) WHERE company_id = ? AND xero_invoice_id = ?",
                       p, sizeof(p) / sizeof(p[0])) < 0)
            return gw_core_db_fail(c, "updating the invoice");
    } else {
        if (gw_db_exec(c->db,
                       "INSERT INTO invoices (number, reference, type, status, currency, total, "
                       "amount_due, amount_paid, due_date, client_id, xero_updated_at, "
                       "company_id, xero_invoice_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                       "IF(? > 0, FROM_UNIXTIME(? / 1000), NULL), ?, ?)",
                       p, sizeof(p) / sizeof(p[0])) < 0)
            return gw_core_db_fail(c, "creating the invoice");
        *invoice_id = gw_db_last_insert_id(c->db);
    }
    *changed = true;
    return GW_CORE_OK;
}

static enum gw_core_rc job_event(struct gw_core_ctx *c, uint64_t job_id, const char *kind,
                                 cJSON *detail)
{
    char *text = detail != NULL ? cJSON_PrintUnformatted(detail) : NULL;
    cJSON_Delete(detail);
    if (text == NULL)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "out of memory");
    enum gw_core_rc rc = gw_job_event(c, job_id, kind, text);
    cJSON_free(text);
    return rc;
}

enum gw_core_rc gw_invoice_link_job(struct gw_core_ctx *c, uint64_t invoice_id, uint64_t job_id,
                                    const char *invoice_label)
{
    if (!ready(c) || invoice_id == 0 || job_id == 0)
        return GW_CORE_INVALID;
    struct gw_db_value p[] = {GW_DB_INT(job_id), GW_DB_INT(c->company_id), GW_DB_INT(invoice_id)};
    /* The composite foreign key (company_id, job_id) refuses another company's job. */
    if (gw_db_exec(c->db, "UPDATE invoices SET job_id = ? WHERE company_id = ? AND id = ?", p, 3) <
        0)
        return gw_core_db_fail(c, "linking the invoice");
    cJSON *d = cJSON_CreateObject();
    if (d != NULL &&
        cJSON_AddStringToObject(d, "invoice", invoice_label ? invoice_label : "") == NULL) {
        cJSON_Delete(d);
        d = NULL;
    }
    return job_event(c, job_id, "invoice_linked", d);
}

enum gw_core_rc gw_job_set_billing_status(struct gw_core_ctx *c, uint64_t job_id,
                                          const char *billing_status, const char *invoice_label)
{
    if (!ready(c) || job_id == 0 || billing_status == NULL)
        return GW_CORE_INVALID;
    bool known = false;
    for (size_t i = 0; billing_statuses[i] != NULL && !known; i++)
        known = strcmp(billing_statuses[i], billing_status) == 0;
    if (!known)
        return gw_core_fail(c, GW_CORE_INVALID,
                            "billing status must be unbilled, invoiced, part_paid, "
                            "paid or void");
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(job_id)};
    struct gw_db_rows *rows = gw_db_query(
        c->db, "SELECT billing_status FROM jobs WHERE company_id = ? AND id = ? FOR UPDATE", p, 2,
        1);
    if (rows == NULL)
        return gw_core_db_fail(c, "reading the job");
    if (gw_db_rows_count(rows) != 1) {
        gw_db_rows_free(rows);
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "job %" PRIu64 " does not exist in this company",
                            job_id);
    }
    char from[16];
    snprintf(from, sizeof(from), "%s", gw_db_rows_text(rows, 0, 0, NULL));
    gw_db_rows_free(rows);
    if (strcmp(from, billing_status) == 0)
        return GW_CORE_OK;
    struct gw_db_value u[] = {GW_DB_TEXT(billing_status), GW_DB_INT(c->company_id),
                              GW_DB_INT(job_id)};
    if (gw_db_exec(c->db, "UPDATE jobs SET billing_status = ? WHERE company_id = ? AND id = ?", u,
                   3) < 0)
        return gw_core_db_fail(c, "setting the billing status");
    cJSON *d = cJSON_CreateObject();
    if (d != NULL &&
        (cJSON_AddStringToObject(d, "from", from) == NULL ||
         cJSON_AddStringToObject(d, "to", billing_status) == NULL ||
         cJSON_AddStringToObject(d, "invoice", invoice_label ? invoice_label : "") == NULL)) {
        cJSON_Delete(d);
        d = NULL;
    }
    return job_event(c, job_id, "billing_changed", d);
}
