/* mail_jobs.c — the jobs, people and comments of e-mail to ticket: finding the job a message
 * answers, who its sender is to that job, and the writes of one message, each scoped to the
 * context's company. Whatever jobs.c already does (creating, commenting, status, history) is
 * done through it. */
#include "gateway/core/mail.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/base/text.h"
#include "gateway/core/mail_ctx.h"

#define ADDRESS_MAX      254
#define NAME_CHARS       200 /* contacts.name, job_comments.author_label */
#define MEDIUMTEXT_BYTES 16777215u
#define REASON_MAX       64

/* ---- reading -------------------------------------------------------------------------- */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ADDRESS without white space around, into OUT; false when it is not an address. */
static bool trimmed_address(const char *address, char out[ADDRESS_MAX + 1])
{
    if (address == NULL)
        return false;
    const char *s = address;
    size_t n = strnlen(address, 4 * ADDRESS_MAX);
    while (n > 0 && is_space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0 || n > ADDRESS_MAX || !gw_text_email_valid(s, n))
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

/* The columns every job query reads, in the order read_job expects. */
#define JOB_COLUMNS "j.id, j.ref, j.status, COALESCE(j.contact_id, 0), COALESCE(j.client_id, 0)"

static void read_job(const struct gw_db_rows *rows, struct gw_mail_job *out)
{
    const char *ref = gw_db_rows_text(rows, 0, 1, NULL);
    const char *status = gw_db_rows_text(rows, 0, 2, NULL);
    out->id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
    snprintf(out->ref, sizeof(out->ref), "%s", ref != NULL ? ref : "");
    snprintf(out->status, sizeof(out->status), "%s", status != NULL ? status : "");
    out->contact_id = (uint64_t)gw_db_rows_int(rows, 0, 3, 0);
    out->client_id = (uint64_t)gw_db_rows_int(rows, 0, 4, 0);
}

/* Runs SQL (which selects JOB_COLUMNS of at most one row) and fills OUT; WHAT names the
 * lookup in messages. */
static enum gw_core_rc query_job(struct gw_core_ctx *c, const char *sql,
                                 const struct gw_db_value *p, size_t n, struct gw_mail_job *out,
                                 const char *what)
{
    struct gw_db_rows *rows = gw_db_query(c->db, sql, p, n, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding the job");
    bool found = gw_db_rows_count(rows) == 1;
    if (found)
        read_job(rows, out);
    gw_db_rows_free(rows);
    if (!found || out->id == 0)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "no job %s in this company", what);
    return GW_CORE_OK;
}

enum gw_core_rc gw_mail_job_get(struct gw_core_ctx *c, uint64_t job_id, struct gw_mail_job *out)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, false);
    if (rc != GW_CORE_OK)
        return rc;
    if (out == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_job_get: missing argument");
    memset(out, 0, sizeof(*out));
    char what[32];
    snprintf(what, sizeof(what), "%" PRIu64, job_id);
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(job_id)};
    return query_job(c, "SELECT " JOB_COLUMNS " FROM jobs j WHERE j.company_id = ? AND j.id = ?", p,
                     2, out, what);
}

enum gw_core_rc gw_mail_job_by_ref(struct gw_core_ctx *c, const char *ref, struct gw_mail_job *out)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, false);
    if (rc != GW_CORE_OK)
        return rc;
    if (out == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_job_by_ref: missing argument");
    memset(out, 0, sizeof(*out));
    char norm[32];
    if (gw_job_ref_normalise(ref, norm) != 0)
        return gw_core_fail(c, GW_CORE_INVALID, "not a ticket reference (expected CT-000123)");
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(norm)};
    return query_job(c, "SELECT " JOB_COLUMNS " FROM jobs j WHERE j.company_id = ? AND j.ref = ?",
                     p, 2, out, norm);
}

enum gw_core_rc gw_mail_job_by_message_id(struct gw_core_ctx *c, const char *message_id,
                                          struct gw_mail_job *out)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, false);
    if (rc != GW_CORE_OK)
        return rc;
    if (out == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_job_by_message_id: missing argument");
    memset(out, 0, sizeof(*out));
    char id[GW_MAIL_MESSAGE_ID_SIZE];
    if (gw_mail_message_id_normalise(message_id, id) != 0)
        return gw_core_fail(c, GW_CORE_INVALID, "not a Message-ID");
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXT(id)};
    return query_job(c,
                     "SELECT " JOB_COLUMNS " FROM job_comments m JOIN jobs j ON j.company_id = "
                     "m.company_id AND j.id = m.job_id WHERE m.company_id = ? AND "
                     "m.email_message_id = ? ORDER BY m.id DESC LIMIT 1",
                     p, 2, out, "with this Message-ID");
}

enum gw_core_rc gw_mail_participant(struct gw_core_ctx *c, uint64_t job_id, const char *address,
                                    struct gw_mail_participant *out)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, false);
    if (rc != GW_CORE_OK)
        return rc;
    if (out == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_participant: missing argument");
    memset(out, 0, sizeof(*out));
    char addr[ADDRESS_MAX + 1];
    if (!trimmed_address(address, addr))
        return gw_core_fail(c, GW_CORE_INVALID, "not a valid e-mail address");

    /* One statement: the job with its contact and client when their address is this one,
     * and the user with this address (a client user only of the job's own client). */
    struct gw_db_value p[] = {GW_DB_TEXT(addr), GW_DB_TEXT(addr), GW_DB_TEXT(addr),
                              GW_DB_INT(c->company_id), GW_DB_INT(job_id)};
    struct gw_db_rows *rows = gw_db_query(
        c->db,
        "SELECT COALESCE(ct.id, 0), COALESCE(cl.id, 0), COALESCE(u.id, 0), COALESCE(u.role, ''), "
        "COALESCE(u.client_id, 0) FROM jobs j "
        "LEFT JOIN contacts ct ON ct.company_id = j.company_id AND ct.id = j.contact_id "
        "AND ct.deleted_at IS NULL AND ct.email = ? "
        "LEFT JOIN clients cl ON cl.company_id = j.company_id AND cl.id = j.client_id "
        "AND cl.deleted_at IS NULL AND cl.email = ? "
        "LEFT JOIN users u ON u.company_id = j.company_id AND u.email = ? AND u.deleted_at IS "
        "NULL AND (u.role <> 'client' OR u.client_id = j.client_id) "
        "WHERE j.company_id = ? AND j.id = ?",
        p, 5, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding who the sender is");
    if (gw_db_rows_count(rows) == 0) {
        gw_db_rows_free(rows);
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "job %" PRIu64 " does not exist in this company",
                            job_id);
    }
    const char *role = gw_db_rows_text(rows, 0, 3, NULL);
    out->contact_id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
    out->client_id = (uint64_t)gw_db_rows_int(rows, 0, 1, 0);
    out->user_id = (uint64_t)gw_db_rows_int(rows, 0, 2, 0);
    snprintf(out->role, sizeof(out->role), "%s", role != NULL ? role : "");
    uint64_t user_client = (uint64_t)gw_db_rows_int(rows, 0, 4, 0);
    gw_db_rows_free(rows);

    bool client_user = out->user_id != 0 && strcmp(out->role, "client") == 0;
    if (client_user && out->client_id == 0)
        out->client_id = user_client;
    out->party = out->contact_id != 0                  ? GW_MAIL_CONTACT
                 : out->client_id != 0 && !client_user ? GW_MAIL_CLIENT
                 : client_user                         ? GW_MAIL_CLIENT_USER
                 : out->user_id != 0                   ? GW_MAIL_STAFF
                                                       : GW_MAIL_STRANGER;
    return GW_CORE_OK;
}

/* ---- contacts ------------------------------------------------------------------------- */

enum gw_core_rc gw_mail_contact_upsert(struct gw_core_ctx *c, const char *address, const char *name,
                                       struct gw_mail_contact *out)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, false);
    if (rc != GW_CORE_OK)
        return rc;
    if (out == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_contact_upsert: missing argument");
    memset(out, 0, sizeof(*out));
    char addr[ADDRESS_MAX + 1];
    char clean[NAME_CHARS * 4 + 1];
    if (!trimmed_address(address, addr))
        return gw_core_fail(c, GW_CORE_INVALID, "not a valid e-mail address");
    size_t name_len = gw_mail_clean_line(name, NAME_CHARS, clean, sizeof(clean));

    /* One statement decides between two workers upserting one address (the unique key
     * (company_id, email), case-insensitive by its collation) and reports the row's id
     * either way (LAST_INSERT_ID(id)). A deleted row keeps everything, name included. */
    struct gw_db_value p[] = {
        GW_DB_INT(c->company_id),
        GW_DB_TEXT(addr),
        name_len > 0 ? GW_DB_TEXTN(clean, name_len) : GW_DB_NULL,
        name_len > 0 ? GW_DB_TEXTN(clean, name_len) : GW_DB_NULL,
    };
    int64_t n = gw_db_exec(c->db,
                           "INSERT INTO contacts (company_id, email, name) VALUES (?, ?, ?) "
                           "ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), name = "
                           "IF(deleted_at IS NULL AND (name IS NULL OR name = ''), "
                           "COALESCE(?, name), name)",
                           p, 4);
    if (n < 0) {
        if (gw_db_errno(c->db) == GW_MAIL_ER_NO_REFERENCED_ROW)
            return gw_core_fail(c, GW_CORE_NOT_FOUND, "company %" PRIu64 " does not exist",
                                c->company_id);
        return gw_core_db_fail(c, "saving the contact");
    }
    uint64_t id = gw_db_last_insert_id(c->db);
    if (id == 0)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "the contact has no id");
    if (n == 1) { /* inserted: no client, not deleted */
        out->id = id;
        out->created = true;
        return GW_CORE_OK;
    }
    struct gw_db_value q[] = {GW_DB_INT(c->company_id), GW_DB_INT(id)};
    struct gw_db_rows *rows = gw_db_query(c->db,
                                          "SELECT deleted_at IS NOT NULL, COALESCE(client_id, 0) "
                                          "FROM contacts WHERE company_id = ? AND id = ?",
                                          q, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "reading the contact");
    bool found = gw_db_rows_count(rows) == 1;
    bool deleted = found && gw_db_rows_int(rows, 0, 0, 0) == 1;
    uint64_t client = found ? (uint64_t)gw_db_rows_int(rows, 0, 1, 0) : 0;
    gw_db_rows_free(rows);
    if (!found)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "the contact vanished while read");
    if (deleted) {
        out->deleted_id = id;
        return gw_core_fail(c, GW_CORE_NOT_FOUND,
                            "the contact with this address was deleted; it is not restored");
    }
    out->id = id;
    out->client_id = client;
    return GW_CORE_OK;
}

/* ---- jobs ----------------------------------------------------------------------------- */

enum gw_core_rc gw_mail_job_open(struct gw_core_ctx *c, const struct gw_mail_job_new *n,
                                 struct gw_mail_job *out)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (n == NULL || out == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_job_open: missing argument");
    memset(out, 0, sizeof(*out));
    uint64_t client = n->client_id;
    if (n->contact_id != 0 && client == 0) {
        struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(n->contact_id)};
        struct gw_db_rows *rows = gw_db_query(c->db,
                                              "SELECT COALESCE(client_id, 0) FROM contacts "
                                              "WHERE company_id = ? AND id = ? AND deleted_at "
                                              "IS NULL",
                                              p, 2, 1);
        if (rows == NULL)
            return gw_core_db_fail(c, "reading the contact");
        bool found = gw_db_rows_count(rows) == 1;
        client = found ? (uint64_t)gw_db_rows_int(rows, 0, 0, 0) : 0;
        gw_db_rows_free(rows);
        if (!found)
            return gw_core_fail(c, GW_CORE_NOT_FOUND,
                                "contact %" PRIu64 " does not exist in this company",
                                n->contact_id);
    }
    char title[GW_MAIL_TITLE_SIZE];
    struct gw_job_new j = {
        .title = gw_mail_title(n->subject, title),
        .contact_id = n->contact_id,
        .client_id = client,
    };
    if ((rc = gw_job_create(c, &j, &out->id, out->ref)) != GW_CORE_OK)
        return rc;
    out->contact_id = n->contact_id;
    out->client_id = client;
    snprintf(out->status, sizeof(out->status), "new");
    return GW_CORE_OK;
}

/* Locks the job row until the transaction ends and reads its status into STATUS. */
static enum gw_core_rc lock_job(struct gw_core_ctx *c, uint64_t job_id, char status[16])
{
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(job_id)};
    struct gw_db_rows *rows = gw_db_query(
        c->db, "SELECT status FROM jobs WHERE company_id = ? AND id = ? FOR UPDATE", p, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "locking the job");
    bool found = gw_db_rows_count(rows) == 1;
    const char *s = found ? gw_db_rows_text(rows, 0, 0, NULL) : NULL;
    snprintf(status, 16, "%s", s != NULL ? s : "");
    gw_db_rows_free(rows);
    if (!found)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "job %" PRIu64 " does not exist in this company",
                            job_id);
    return GW_CORE_OK;
}

enum gw_core_rc gw_mail_job_reopen(struct gw_core_ctx *c, uint64_t job_id, bool *reopened)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (reopened == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_job_reopen: missing argument");
    *reopened = false;
    char status[16];
    if ((rc = lock_job(c, job_id, status)) != GW_CORE_OK)
        return rc;
    if (strcmp(status, "done") != 0 && strcmp(status, "closed") != 0)
        return GW_CORE_OK;
    if ((rc = gw_job_set_status(c, job_id, "open")) != GW_CORE_OK)
        return rc;
    *reopened = true;
    return GW_CORE_OK;
}

/* ---- comments ------------------------------------------------------------------------- */

enum gw_core_rc gw_mail_comment_add(struct gw_core_ctx *c, uint64_t job_id,
                                    const struct gw_mail_comment *m, uint64_t *comment_id,
                                    bool *duplicate)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (m == NULL || comment_id == NULL || duplicate == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_comment_add: missing argument");
    *comment_id = 0;
    *duplicate = false;
    char id[GW_MAIL_MESSAGE_ID_SIZE];
    if (gw_mail_message_id_normalise(m->message_id, id) != 0)
        return gw_core_fail(c, GW_CORE_INVALID, "a mail comment needs the message's Message-ID");

    /* The job's lock orders two workers applying the same message: the second one finds
     * the first one's comment (READ COMMITTED reads it once committed). */
    char status[16];
    if ((rc = lock_job(c, job_id, status)) != GW_CORE_OK)
        return rc;
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(job_id), GW_DB_TEXT(id)};
    struct gw_db_rows *rows = gw_db_query(c->db,
                                          "SELECT id FROM job_comments WHERE company_id = ? AND "
                                          "job_id = ? AND email_message_id = ? ORDER BY id "
                                          "LIMIT 1",
                                          p, 3, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "looking for the message on the job");
    uint64_t existing = gw_db_rows_count(rows) == 1 ? (uint64_t)gw_db_rows_int(rows, 0, 0, 0) : 0;
    gw_db_rows_free(rows);
    if (existing != 0) {
        *comment_id = existing;
        *duplicate = true;
        return GW_CORE_OK;
    }

    char label[NAME_CHARS * 4 + 1];
    size_t label_len = gw_mail_clean_line(m->author_label, NAME_CHARS, label, sizeof(label));
    const char *body = m->body != NULL ? m->body : "";
    size_t body_len = strlen(body);
    char *cut = NULL;
    bool blank = true;
    for (size_t i = 0; i < body_len && blank; i++)
        blank = is_space(body[i]) || body[i] == '\v' || body[i] == '\f';
    if (blank) {
        body = "(no text)";
    } else if (body_len > MEDIUMTEXT_BYTES) {
        size_t keep = gw_mail_utf8_prefix(body, body_len, MEDIUMTEXT_BYTES);
        cut = malloc(keep + 1);
        if (cut == NULL)
            return gw_core_fail(c, GW_CORE_DB_ERROR, "out of memory");
        memcpy(cut, body, keep);
        cut[keep] = '\0';
        body = cut;
    }
    struct gw_comment_new cm = {
        .body = body,
        .visibility = m->visibility,
        .author_user_id = m->author_user_id,
        .author_contact_id = m->author_contact_id,
        .author_label = label_len > 0 ? label : NULL,
        .email_message_id = id,
    };
    if (m->visibility == NULL)
        rc = gw_core_fail(c, GW_CORE_INVALID, "a mail comment needs its visibility");
    else
        rc = gw_job_comment(c, job_id, &cm, comment_id);
    free(cut);
    return rc;
}

/* ---- history -------------------------------------------------------------------------- */

static bool valid_reason(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > REASON_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
              s[i] == '-'))
            return false;
    return true;
}

enum gw_core_rc gw_mail_job_event(struct gw_core_ctx *c, uint64_t job_id,
                                  const struct gw_mail_event *e)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (e == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_job_event: missing argument");
    if (e->automated_reason != NULL && !valid_reason(e->automated_reason))
        return gw_core_fail(c, GW_CORE_INVALID,
                            "automated_reason must be 1..%d of a-z, 0-9, _ and -", REASON_MAX);
    char id[GW_MAIL_MESSAGE_ID_SIZE];
    char from[ADDRESS_MAX + 1];
    bool has_id = gw_mail_message_id_normalise(e->message_id, id) == 0;
    bool has_from = trimmed_address(e->from, from);

    /* Only checked values go in: the detail column is JSON, which the server validates. */
    cJSON *d = cJSON_CreateObject();
    bool ok = d != NULL &&
              (e->comment_id != 0 ? cJSON_AddNumberToObject(d, "comment_id", (double)e->comment_id)
                                  : cJSON_AddNullToObject(d, "comment_id")) != NULL &&
              (has_id ? cJSON_AddStringToObject(d, "message_id", id)
                      : cJSON_AddNullToObject(d, "message_id")) != NULL &&
              (has_from ? cJSON_AddStringToObject(d, "from", from)
                        : cJSON_AddNullToObject(d, "from")) != NULL &&
              cJSON_AddBoolToObject(d, "automated", e->automated) != NULL &&
              (e->automated_reason != NULL
                   ? cJSON_AddStringToObject(d, "automated_reason", e->automated_reason)
                   : cJSON_AddNullToObject(d, "automated_reason")) != NULL &&
              cJSON_AddBoolToObject(d, "new_job", e->new_job) != NULL &&
              cJSON_AddBoolToObject(d, "reopened", e->reopened) != NULL &&
              cJSON_AddBoolToObject(d, "duplicate", e->duplicate) != NULL;
    char *text = ok ? cJSON_PrintUnformatted(d) : NULL;
    cJSON_Delete(d);
    if (text == NULL)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "out of memory");
    rc = gw_job_event(c, job_id, "email_received", text);
    cJSON_free(text);
    return rc;
}
