/* jobs.c — core-table operations on the caller's transaction, each scoped to one company. */
#include "gateway/core/jobs.h"
#include "gateway/base/text.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Column bounds of 0001_core_schema.sql. VARCHAR(n) counts characters; MEDIUMTEXT counts
 * bytes. Checking them here turns what strict mode would reject (a DB error the caller
 * retries forever) into a permanent GW_CORE_INVALID. */
#define TITLE_CHARS      300
#define TEAM_CHARS       100
#define LABEL_CHARS      200
#define MESSAGE_ID_CHARS 255
#define NOTE_CHARS       2000
#define NAME_CHARS       200
#define PHONE_CHARS      64
#define EMAIL_BYTES      254 /* RFC 5321 counts octets; also within the 254-character column */
#define KIND_CHARS       40
#define SLUG_CHARS       64
#define MEDIUMTEXT_BYTES 16777215u
#define DETAIL_BYTES     65536u /* job_events.detail is a small summary, never a payload */
#define UNBOUNDED        SIZE_MAX
#define MAX_REF_DIGITS   18 /* every 18-digit number fits BIGINT UNSIGNED */
#define MAX_MINUTES      1440

static const char *const statuses[] = {"new",  "open",   "in_progress", "on_hold",
                                       "done", "closed", NULL};
static const char *const priorities[] = {"low", "normal", "high", "urgent", NULL};
static const char *const sources[] = {"email",  "slack", "xero", "crm", "form",
                                      "stripe", "asana", "api",  NULL};
static const char *const visibilities[] = {"public", "internal", NULL};

#define STATUS_LIST     "new, open, in_progress, on_hold, done or closed"
#define PRIORITY_LIST   "low, normal, high or urgent"
#define SOURCE_LIST     "email, slack, xero, crm, form, stripe, asana or api"
#define VISIBILITY_LIST "public or internal"

/* ---- errors --------------------------------------------------------------------------- */

enum gw_core_rc gw_core_fail(struct gw_core_ctx *c, enum gw_core_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof(c->err), fmt, ap);
    va_end(ap);
    return rc;
}

enum gw_core_rc gw_core_db_fail(struct gw_core_ctx *c, const char *what)
{
    return gw_core_fail(c, GW_CORE_DB_ERROR, "%s: %s", what, gw_db_error(c->db));
}

static enum gw_core_rc oom(struct gw_core_ctx *c)
{
    return gw_core_fail(c, GW_CORE_DB_ERROR, "out of memory");
}

/* ---- pure validation ------------------------------------------------------------------ */

static bool in_set(const char *v, const char *const *set)
{
    if (v == NULL)
        return false;
    for (size_t i = 0; set[i] != NULL; i++)
        if (strcmp(v, set[i]) == 0)
            return true;
    return false;
}

static bool is_space(unsigned char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static bool is_blank(const char *s)
{
    for (; *s != '\0'; s++)
        if (!is_space((unsigned char)*s))
            return false;
    return true;
}

/* The part of s between leading and trailing ASCII white space. */
static void trim(const char *s, const char **start, size_t *len)
{
    size_t n = strlen(s);
    while (n > 0 && is_space((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space((unsigned char)s[n - 1]))
        n--;
    *start = s;
    *len = n;
}

/* Checks an optional text of at most max_chars characters and max_bytes bytes. A required
 * text must also contain something other than white space. */
static enum gw_core_rc check_text(struct gw_core_ctx *c, const char *field, const char *s,
                                  size_t len, size_t max_chars, size_t max_bytes, bool required)
{
    size_t chars = 0;
    if (s == NULL || len == 0 || (required && is_blank(s))) {
        if (required)
            return gw_core_fail(c, GW_CORE_INVALID, "%s is required and must not be blank", field);
        return GW_CORE_OK;
    }
    if (len > max_bytes && max_chars != UNBOUNDED) /* then it has too many characters too */
        return gw_core_fail(c, GW_CORE_INVALID, "%s is longer than %zu characters", field,
                            max_chars);
    if (len > max_bytes)
        return gw_core_fail(c, GW_CORE_INVALID, "%s is longer than %zu bytes", field, max_bytes);
    if (!gw_text_utf8_chars(s, len, &chars))
        return gw_core_fail(c, GW_CORE_INVALID, "%s is not valid UTF-8", field);
    if (chars > max_chars)
        return gw_core_fail(c, GW_CORE_INVALID, "%s is longer than %zu characters", field,
                            max_chars);
    return GW_CORE_OK;
}

/* A VARCHAR(max_chars) value: in utf8mb4 at most four bytes a character. */
static enum gw_core_rc check_varchar(struct gw_core_ctx *c, const char *field, const char *s,
                                     size_t max_chars, bool required)
{
    return check_text(c, field, s, s ? strlen(s) : 0, max_chars, max_chars * 4, required);
}

static bool digits(const char *s, size_t n, int *out)
{
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "YYYY-MM-DD" naming a real day within the range of a MySQL DATE. */
static bool valid_date(const char *s)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) ||
        !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
        return false;
    if (y < 1000 || m < 1 || m > 12 || d < 1)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return d <= days[m - 1] + (m == 2 && leap ? 1 : 0);
}

/* "YYYY-MM-DD HH:MM:SS". */
static bool valid_datetime(const char *s)
{
    char date[11];
    int h, mi, se;
    if (strlen(s) != 19 || s[10] != ' ' || s[13] != ':' || s[16] != ':')
        return false;
    memcpy(date, s, 10);
    date[10] = '\0';
    return valid_date(date) && digits(s + 11, 2, &h) && digits(s + 14, 2, &mi) &&
           digits(s + 17, 2, &se) && h <= 23 && mi <= 59 && se <= 59;
}

/* The slug rule of companies.ck_companies_slug. */
static bool valid_slug(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > SLUG_CHARS)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                  (i > 0 && (ch == '_' || ch == '-'));
        if (!ok)
            return false;
    }
    return true;
}

/* Event kinds are identifiers that reports group by, never free text. */
static bool valid_kind(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > KIND_CHARS)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

int gw_job_ref_normalise(const char *in, char out[32])
{
    uint64_t v = 0;
    size_t n = 0;
    if (out == NULL)
        return -1;
    out[0] = '\0';
    if (in == NULL)
        return -1;
    const char *p = in;
    if ((p[0] == 'C' || p[0] == 'c') && (p[1] == 'T' || p[1] == 't') && p[2] == '-')
        p += 3;
    for (; p[n] != '\0'; n++) {
        if (n >= MAX_REF_DIGITS || p[n] < '0' || p[n] > '9')
            return -1;
        v = v * 10 + (uint64_t)(p[n] - '0');
    }
    if (n == 0 || v == 0)
        return -1;
    /* The same rule as the generated jobs.ref column: at least six digits. */
    snprintf(out, 32, "CT-%06" PRIu64, v);
    return 0;
}

/* ---- database helpers ----------------------------------------------------------------- */

static struct gw_db_value opt_id(uint64_t id)
{
    return id != 0 ? GW_DB_INT(id) : GW_DB_NULL;
}

static struct gw_db_value opt_text(const char *s, size_t len)
{
    return s != NULL && len > 0 ? GW_DB_TEXTN(s, len) : GW_DB_NULL;
}

/* Runs sql (parameters: company_id, id) and answers OK when it finds a row, NOT_FOUND naming
 * what when it does not. Rows of other companies are invisible by construction. */
static enum gw_core_rc need_row(struct gw_core_ctx *c, const char *sql, uint64_t id,
                                const char *what)
{
    if (id == 0)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "%s 0 does not exist", what);
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(id)};
    struct gw_db_rows *rows = gw_db_query(c->db, sql, p, 2, 1);
    if (rows == NULL)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "looking up %s: %s", what, gw_db_error(c->db));
    size_t n = gw_db_rows_count(rows);
    gw_db_rows_free(rows);
    if (n == 0)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "%s %" PRIu64 " does not exist in this company",
                            what, id);
    return GW_CORE_OK;
}

/* ---- what this context proved ---------------------------------------------------------- */

/* What the core's own statements proved in one context: rows of its company that later calls
 * with the same context need not look up again. The note is kept here, per thread (a context
 * is used by one thread at a time, like its connection), and the context holds only the
 * token naming it, so that no caller can write a proof: a note counts only for the context at
 * its address whose token, connection and company it names, and an event only when it is the
 * context's. */
/* Contexts in use at once on a thread: one is the common case; a worker applying a batch of
 * events together (gw_job_create_many) uses one per event. */
#define MEMO_SLOTS GW_JOB_BATCH_MAX
#define MEMO_USERS 4 /* the caller, and the users a command names */

struct memo {
    const struct gw_core_ctx *owner;
    uint64_t token;
    const struct gw_db *db;
    uint64_t company;
    uint64_t event;             /* webhook_event_id, proved to be an event of the company */
    uint64_t contact;           /* the contact gw_contact_upsert returned */
    uint64_t users[MEMO_USERS]; /* users of the company, not deleted */
    unsigned next_user;
};

static _Thread_local struct memo memos[MEMO_SLOTS];
static _Thread_local unsigned memo_next;
static atomic_uint_fast64_t memo_tokens; /* unique in the process, never 0 */

static struct memo *memo_find(const struct gw_core_ctx *c)
{
    if (c->memo == 0)
        return NULL;
    for (size_t i = 0; i < MEMO_SLOTS; i++) {
        struct memo *m = &memos[i];
        if (m->owner == c && m->token == c->memo && m->db == c->db && m->company == c->company_id)
            return m;
    }
    return NULL;
}

/* The note of this context, started afresh in the slot used longest ago when it has none. */
static struct memo *memo_take(struct gw_core_ctx *c)
{
    struct memo *m = memo_find(c);
    if (m != NULL)
        return m;
    m = &memos[memo_next++ % MEMO_SLOTS];
    *m = (struct memo){.owner = c,
                       .token = (uint64_t)atomic_fetch_add(&memo_tokens, 1) + 1,
                       .db = c->db,
                       .company = c->company_id};
    c->memo = m->token;
    return m;
}

static bool memo_has_user(const struct gw_core_ctx *c, uint64_t id)
{
    const struct memo *m = memo_find(c);
    for (size_t i = 0; m != NULL && id != 0 && i < MEMO_USERS; i++)
        if (m->users[i] == id)
            return true;
    return false;
}

static void memo_user(struct gw_core_ctx *c, uint64_t id)
{
    if (id == 0 || memo_has_user(c, id))
        return;
    struct memo *m = memo_take(c);
    m->users[m->next_user++ % MEMO_USERS] = id;
}

static bool memo_has_contact(const struct gw_core_ctx *c, uint64_t id)
{
    const struct memo *m = memo_find(c);
    return m != NULL && id != 0 && m->contact == id;
}

static void memo_contact(struct gw_core_ctx *c, uint64_t id)
{
    memo_take(c)->contact = id;
}

/* True when the context names no inbox event, or the core proved it is the company's. */
static bool event_proved(const struct gw_core_ctx *c)
{
    const struct memo *m = memo_find(c);
    return c->webhook_event_id == 0 || (m != NULL && m->event == c->webhook_event_id);
}

static void memo_event(struct gw_core_ctx *c)
{
    if (c->webhook_event_id != 0)
        memo_take(c)->event = c->webhook_event_id;
}

/* The inbox event's proof as one more column of a statement an operation runs anyway: 1 when
 * the context's event is one of its company (the event's foreign key proves the company
 * then too), bound to event_params. A statement carrying it counts as the proof. */
#define EVENT_PROOF "EXISTS (SELECT 1 FROM webhook_events WHERE company_id = ? AND id = ?)"

static void event_params(const struct gw_core_ctx *c, struct gw_db_value p[2])
{
    p[0] = GW_DB_INT(c->company_id);
    p[1] = GW_DB_INT(c->webhook_event_id);
}

/* Records the proof when column COL of the first row of ROWS (an EVENT_PROOF) says 1. A 0
 * refuses nothing here: the write that needs the proof looks the event up and refuses. */
static void note_event_proof(struct gw_core_ctx *c, const struct gw_db_rows *rows, size_t col)
{
    if (gw_db_rows_count(rows) == 1 && gw_db_rows_int(rows, 0, col, 0) == 1)
        memo_event(c);
}

static enum gw_core_rc event_not_found(struct gw_core_ctx *c)
{
    return gw_core_fail(c, GW_CORE_NOT_FOUND,
                        "webhook event %" PRIu64 " does not exist in this company",
                        c->webhook_event_id);
}

/* ---- existence checks ------------------------------------------------------------------ */

static enum gw_core_rc need_user(struct gw_core_ctx *c, uint64_t id, const char *what)
{
    if (memo_has_user(c, id))
        return GW_CORE_OK;
    enum gw_core_rc rc = need_row(
        c, "SELECT 1 FROM users WHERE company_id = ? AND id = ? AND deleted_at IS NULL", id, what);
    if (rc == GW_CORE_OK)
        memo_user(c, id);
    return rc;
}

static enum gw_core_rc need_client(struct gw_core_ctx *c, uint64_t id)
{
    return need_row(c,
                    "SELECT 1 FROM clients WHERE company_id = ? AND id = ? AND deleted_at IS NULL",
                    id, "client");
}

static enum gw_core_rc need_contact(struct gw_core_ctx *c, uint64_t id)
{
    if (memo_has_contact(c, id))
        return GW_CORE_OK;
    return need_row(c,
                    "SELECT 1 FROM contacts WHERE company_id = ? AND id = ? AND deleted_at IS NULL",
                    id, "contact");
}

static enum gw_core_rc need_job(struct gw_core_ctx *c, uint64_t id)
{
    return need_row(c, "SELECT 1 FROM jobs WHERE company_id = ? AND id = ?", id, "job");
}

/* A write refused by a foreign key to companies (ER_NO_REFERENCED_ROW_2): the statements
 * that use this name no other parent the caller has not had checked already, so the
 * company itself does not exist. The key proves it on every insert at no cost. */
#define ER_NO_REFERENCED_ROW_2 1452

static enum gw_core_rc write_failed(struct gw_core_ctx *c, const char *what)
{
    if (gw_db_errno(c->db) == ER_NO_REFERENCED_ROW_2)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "company %" PRIu64 " does not exist",
                            c->company_id);
    return gw_core_db_fail(c, what);
}

/* What every operation checks before it reads: a connection and a company; a writer also
 * needs a known source. */
static enum gw_core_rc check_ctx(struct gw_core_ctx *c, bool writes)
{
    if (c == NULL)
        return GW_CORE_INVALID;
    c->err[0] = '\0';
    if (c->db == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "no database connection in the context");
    if (c->company_id == 0)
        return gw_core_fail(c, GW_CORE_INVALID, "no company in the context");
    if (writes && !in_set(c->source, sources))
        return gw_core_fail(c, GW_CORE_INVALID, "source must be one of " SOURCE_LIST);
    return GW_CORE_OK;
}

/* The inbox event every history row names must belong to this company, or a row of ours
 * would point into another tenant's data. Usually proved already, with the first statement
 * of the command (EVENT_PROOF); otherwise looked up here. */
static enum gw_core_rc check_event(struct gw_core_ctx *c)
{
    if (event_proved(c))
        return GW_CORE_OK;
    enum gw_core_rc rc = need_row(c, "SELECT 1 FROM webhook_events WHERE company_id = ? AND id = ?",
                                  c->webhook_event_id, "webhook event");
    if (rc == GW_CORE_OK)
        memo_event(c);
    return rc;
}

/* The actor that every history row names must belong to this company too. */
static enum gw_core_rc check_ctx_refs(struct gw_core_ctx *c)
{
    enum gw_core_rc rc = GW_CORE_OK;
    if (c->actor_user_id != 0)
        rc = need_user(c, c->actor_user_id, "acting user");
    return rc == GW_CORE_OK ? check_event(c) : rc;
}

static enum gw_core_rc insert_event(struct gw_core_ctx *c, uint64_t job_id, const char *kind,
                                    const char *detail_json)
{
    struct gw_db_value p[] = {
        GW_DB_INT(c->company_id),
        GW_DB_INT(job_id),
        GW_DB_TEXT(kind),
        detail_json != NULL ? GW_DB_TEXT(detail_json) : GW_DB_NULL,
        GW_DB_TEXT(c->source),
        opt_id(c->actor_user_id),
        opt_id(c->webhook_event_id),
    };
    if (gw_db_exec(c->db,
                   "INSERT INTO job_events (company_id, job_id, kind, detail, source, "
                   "actor_user_id, webhook_event_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   p, sizeof(p) / sizeof(p[0])) < 0)
        return gw_core_db_fail(c, "writing the job history");
    return GW_CORE_OK;
}

/* Appends an event whose detail was built with cJSON (ok false when any part of building it
 * failed); frees detail in every case. */
static enum gw_core_rc emit(struct gw_core_ctx *c, uint64_t job_id, const char *kind, cJSON *detail,
                            bool ok)
{
    char *text = ok && detail != NULL ? cJSON_PrintUnformatted(detail) : NULL;
    cJSON_Delete(detail);
    if (text == NULL)
        return oom(c);
    enum gw_core_rc rc = insert_event(c, job_id, kind, text);
    cJSON_free(text);
    return rc;
}

static bool add_id(cJSON *o, const char *name, uint64_t id)
{
    /* Ids fit a double exactly up to 2^53, far beyond any AUTO_INCREMENT we will reach. */
    return id != 0 ? cJSON_AddNumberToObject(o, name, (double)id) != NULL
                   : cJSON_AddNullToObject(o, name) != NULL;
}

struct job_state {
    char status[16];
    char priority[16];
    uint64_t assignee;
    char due_at[20]; /* "YYYY-MM-DD HH:MM:SS", "" when none */
};

/* Reads a job of this company and locks it until the caller's transaction ends, so that the
 * "from" value written to the history is the one actually replaced. */
static enum gw_core_rc lock_job(struct gw_core_ctx *c, uint64_t job_id, struct job_state *st)
{
    if (job_id == 0)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "job 0 does not exist");
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(job_id)};
    struct gw_db_rows *rows =
        gw_db_query(c->db,
                    "SELECT status, priority, assignee_user_id, DATE_FORMAT(due_at, "
                    "'%Y-%m-%d %H:%i:%s') FROM jobs WHERE company_id = ? AND id = ? FOR UPDATE",
                    p, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "reading the job");
    if (gw_db_rows_count(rows) == 0) {
        gw_db_rows_free(rows);
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "job %" PRIu64 " does not exist in this company",
                            job_id);
    }
    const char *status = gw_db_rows_text(rows, 0, 0, NULL);
    const char *priority = gw_db_rows_text(rows, 0, 1, NULL);
    snprintf(st->status, sizeof(st->status), "%s", status ? status : "");
    snprintf(st->priority, sizeof(st->priority), "%s", priority ? priority : "");
    st->assignee = (uint64_t)gw_db_rows_int(rows, 0, 2, 0);
    const char *due = gw_db_rows_text(rows, 0, 3, NULL);
    snprintf(st->due_at, sizeof(st->due_at), "%s", due ? due : "");
    gw_db_rows_free(rows);
    return GW_CORE_OK;
}

static bool is_closed_status(const char *status)
{
    return strcmp(status, "done") == 0 || strcmp(status, "closed") == 0;
}

/* ---- jobs ----------------------------------------------------------------------------- */

/* Takes the company's next job number. LAST_INSERT_ID(expr) makes the server report expr as
 * the statement's insert id (mysql_stmt_insert_id), so the number comes back with the
 * statement that took it. The counter row stays locked until the caller's transaction ends,
 * which serialises concurrent creators; a rollback rolls the counter back with it.
 *
 * The statement proves the company too: its foreign key refuses a company that does not
 * exist. When the context's inbox event is not proved yet, the row comes from the event's
 * own row instead, so that no row, and no number, is taken unless the event is one of this
 * company: the one statement is the proof. */
static const char counter_sql[] =
    "INSERT INTO job_ref_counters (company_id, last_number) VALUES (?, LAST_INSERT_ID(1)) "
    "ON DUPLICATE KEY UPDATE last_number = LAST_INSERT_ID(last_number + 1)";
static const char counter_proving_event_sql[] =
    "INSERT INTO job_ref_counters (company_id, last_number) SELECT company_id, "
    "LAST_INSERT_ID(1) FROM webhook_events WHERE company_id = ? AND id = ? "
    "ON DUPLICATE KEY UPDATE last_number = LAST_INSERT_ID(last_number + 1)";

static enum gw_core_rc next_number(struct gw_core_ctx *c, uint64_t *number)
{
    bool prove = !event_proved(c);
    struct gw_db_value p[2];
    event_params(c, p);
    int64_t n =
        gw_db_exec(c->db, prove ? counter_proving_event_sql : counter_sql, p, prove ? 2 : 1);
    if (n < 0)
        return write_failed(c, "taking the next job number");
    if (n == 0)
        return event_not_found(c); /* only the proving form can take no row */
    if (prove)
        memo_event(c);
    *number = gw_db_last_insert_id(c->db);
    if (*number == 0)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "the job counter returned no number");
    return GW_CORE_OK;
}

static enum gw_core_rc check_job_new(struct gw_core_ctx *c, const struct gw_job_new *j,
                                     const char *status, const char *priority)
{
    enum gw_core_rc rc;
    if ((rc = check_varchar(c, "title", j->title, TITLE_CHARS, true)) != GW_CORE_OK ||
        (rc = check_text(c, "description", j->description,
                         j->description ? strlen(j->description) : 0, UNBOUNDED, MEDIUMTEXT_BYTES,
                         false)) != GW_CORE_OK ||
        (rc = check_varchar(c, "team", j->team, TEAM_CHARS, false)) != GW_CORE_OK)
        return rc;
    if (!in_set(status, statuses))
        return gw_core_fail(c, GW_CORE_INVALID, "status must be one of " STATUS_LIST);
    if (!in_set(priority, priorities))
        return gw_core_fail(c, GW_CORE_INVALID, "priority must be one of " PRIORITY_LIST);
    if (j->due_at != NULL && !valid_datetime(j->due_at))
        return gw_core_fail(c, GW_CORE_INVALID,
                            "due_at must be a real UTC time YYYY-MM-DD HH:MM:SS");
    return GW_CORE_OK;
}

/* Everything a new job points at must exist in this company. */
static enum gw_core_rc check_job_refs(struct gw_core_ctx *c, const struct gw_job_new *j)
{
    enum gw_core_rc rc = GW_CORE_OK;
    if (rc == GW_CORE_OK && j->client_id != 0)
        rc = need_client(c, j->client_id);
    if (rc == GW_CORE_OK && j->contact_id != 0)
        rc = need_contact(c, j->contact_id);
    if (rc == GW_CORE_OK && j->assignee_user_id != 0)
        rc = need_user(c, j->assignee_user_id, "assignee");
    if (rc == GW_CORE_OK && j->created_by_user_id != 0)
        rc = need_user(c, j->created_by_user_id, "creator");
    return rc;
}

/* The ref the jobs.ref generated column derives from number (migration 0001), computed
 * here rather than read back. */
static void ref_of(uint64_t number, char ref[32])
{
    snprintf(ref, 32, "CT-%06" PRIu64, number);
}

/* Everything gw_job_create and gw_job_create_many check of one job before they take a
 * number: a refused create takes no number and holds no counter lock. */
static enum gw_core_rc create_checks(struct gw_core_ctx *c, const struct gw_job_new *j,
                                     const char **status, const char **priority)
{
    enum gw_core_rc rc = check_ctx(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (j == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_job_create: missing argument");
    *status = j->status ? j->status : "new";
    *priority = j->priority ? j->priority : "normal";
    if ((rc = check_job_new(c, j, *status, *priority)) != GW_CORE_OK)
        return rc;
    if (c->actor_user_id != 0 && (rc = need_user(c, c->actor_user_id, "acting user")) != GW_CORE_OK)
        return rc;
    return check_job_refs(c, j);
}

enum gw_core_rc gw_job_create(struct gw_core_ctx *c, const struct gw_job_new *j, uint64_t *job_id,
                              char ref[32])
{
    if (job_id == NULL || ref == NULL)
        return c != NULL ? gw_core_fail(c, GW_CORE_INVALID, "gw_job_create: missing argument")
                         : GW_CORE_INVALID;
    ref[0] = '\0';
    const char *status = NULL, *priority = NULL;
    /* The company and the inbox event are proved by the counter statement itself (see
     * next_number), so that no separate lookup comes before it. */
    enum gw_core_rc rc = create_checks(c, j, &status, &priority);
    if (rc != GW_CORE_OK)
        return rc;

    uint64_t number = 0;
    if ((rc = next_number(c, &number)) != GW_CORE_OK)
        return rc;
    size_t team_len = j->team ? strlen(j->team) : 0;
    struct gw_db_value p[] = {
        GW_DB_INT(c->company_id),
        GW_DB_INT(number),
        GW_DB_TEXT(j->title),
        j->description ? GW_DB_TEXT(j->description) : GW_DB_NULL,
        GW_DB_TEXT(status),
        GW_DB_TEXT(priority),
        GW_DB_TEXT(c->source),
        opt_text(j->team, team_len),
        opt_id(j->client_id),
        opt_id(j->contact_id),
        opt_id(j->assignee_user_id),
        opt_id(j->created_by_user_id),
        j->due_at ? GW_DB_TEXT(j->due_at) : GW_DB_NULL,
        GW_DB_INT(is_closed_status(status) ? 1 : 0),
    };
    if (gw_db_exec(c->db,
                   "INSERT INTO jobs (company_id, number, title, description, status, priority, "
                   "source, team, client_id, contact_id, assignee_user_id, created_by_user_id, "
                   "due_at, closed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                   "IF(?, UTC_TIMESTAMP(3), NULL))",
                   p, sizeof(p) / sizeof(p[0])) < 0)
        return gw_core_db_fail(c, "creating the job");
    uint64_t id = gw_db_last_insert_id(c->db);
    if (id == 0)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "the new job has no id");
    char new_ref[32];
    ref_of(number, new_ref);

    cJSON *d = cJSON_CreateObject();
    bool ok = d != NULL && cJSON_AddStringToObject(d, "ref", new_ref) != NULL &&
              cJSON_AddStringToObject(d, "status", status) != NULL &&
              cJSON_AddStringToObject(d, "priority", priority) != NULL;
    if ((rc = emit(c, id, "created", d, ok)) != GW_CORE_OK)
        return rc;
    *job_id = id;
    memcpy(ref, new_ref, sizeof(new_ref));
    return GW_CORE_OK;
}

/* ---- callers found together ------------------------------------------------------------ */

/* The questions as the JSON array JSON_TABLE reads, [[i, company, slack id, event], ...]: one
 * parameter, so the statement's text and its prepared form are the same for any batch. */
static char *caller_questions(const struct gw_slack_caller *q, size_t n)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a != NULL && i < n; i++) {
        cJSON *row = cJSON_CreateArray();
        if (row == NULL || !cJSON_AddItemToArray(a, row) ||
            !cJSON_AddItemToArray(row, cJSON_CreateNumber((double)i)) ||
            !cJSON_AddItemToArray(row, cJSON_CreateNumber((double)q[i].ctx->company_id)) ||
            !cJSON_AddItemToArray(row, cJSON_CreateString(q[i].slack_id)) ||
            !cJSON_AddItemToArray(row, cJSON_CreateNumber((double)q[i].ctx->webhook_event_id))) {
            cJSON_Delete(a);
            return NULL;
        }
    }
    char *json = a != NULL ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return json;
}

/* Each question's user, and whether its context's inbox event is one of its company. */
static const char callers_sql[] =
    "SELECT q.i, u.id, u.role, COALESCE(u.client_id, 0), EXISTS (SELECT 1 FROM webhook_events w "
    "WHERE w.company_id = q.company AND w.id = q.event) FROM JSON_TABLE(?, '$[*]' COLUMNS (i INT "
    "PATH '$[0]', company BIGINT UNSIGNED PATH '$[1]', slack VARCHAR(64) PATH '$[2]', event "
    "BIGINT UNSIGNED PATH '$[3]')) q LEFT JOIN users u ON u.company_id = q.company AND "
    "u.slack_user_id = q.slack AND u.deleted_at IS NULL";

enum gw_core_rc gw_users_find_by_slack_ids(struct gw_slack_caller *q, size_t n)
{
    if (q == NULL || n == 0 || n > GW_JOB_BATCH_MAX)
        return GW_CORE_INVALID;
    struct gw_db *db = NULL;
    for (size_t i = 0; i < n; i++) {
        memset(&q[i].user, 0, sizeof(q[i].user));
        if (q[i].ctx == NULL)
            return GW_CORE_INVALID;
        enum gw_core_rc rc = check_ctx(q[i].ctx, false);
        if (rc == GW_CORE_OK &&
            (q[i].slack_id == NULL || *q[i].slack_id == '\0' || strlen(q[i].slack_id) > 64))
            rc = gw_core_fail(q[i].ctx, GW_CORE_INVALID, "not a Slack member id");
        if (rc == GW_CORE_OK && db != NULL && q[i].ctx->db != db)
            rc = gw_core_fail(q[i].ctx, GW_CORE_INVALID, "a batch runs on one connection");
        if (rc != GW_CORE_OK)
            return rc;
        db = q[i].ctx->db;
        q[i].rc = GW_CORE_NOT_FOUND;
    }
    char *json = caller_questions(q, n);
    if (json == NULL)
        return oom(q[0].ctx);
    struct gw_db_value p[] = {GW_DB_TEXT(json)};
    struct gw_db_rows *rows = gw_db_query(db, callers_sql, p, 1, n);
    cJSON_free(json);
    if (rows == NULL) {
        for (size_t i = 0; i < n; i++)
            q[i].rc = gw_core_db_fail(q[i].ctx, "finding the users");
        return GW_CORE_DB_ERROR;
    }
    for (size_t r = 0; r < gw_db_rows_count(rows); r++) {
        int64_t i = gw_db_rows_int(rows, r, 0, -1);
        if (i < 0 || (size_t)i >= n)
            continue;
        struct gw_slack_caller *one = &q[i];
        if (one->ctx->webhook_event_id != 0 && gw_db_rows_int(rows, r, 4, 0) == 1)
            memo_event(one->ctx);
        uint64_t id = (uint64_t)gw_db_rows_int(rows, r, 1, 0);
        if (id == 0)
            continue;
        const char *role = gw_db_rows_text(rows, r, 2, NULL);
        one->user.id = id;
        one->user.client_id = (uint64_t)gw_db_rows_int(rows, r, 3, 0);
        snprintf(one->user.role, sizeof(one->user.role), "%s", role ? role : "");
        memo_user(one->ctx, id);
        one->rc = GW_CORE_OK;
    }
    gw_db_rows_free(rows);
    for (size_t i = 0; i < n; i++)
        if (q[i].rc == GW_CORE_NOT_FOUND)
            gw_core_fail(q[i].ctx, GW_CORE_NOT_FOUND, "no user linked to this Slack account");
    return GW_CORE_OK;
}

/* ---- jobs created together ------------------------------------------------------------ */

/* The batch's statement texts: a row's placeholders, and the texts' bounds. */
#define JOB_ROW    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, IF(?, UTC_TIMESTAMP(3), NULL))"
#define JOB_COLS   14
#define EVENT_ROW  "(?, ?, 'created', ?, ?, ?, ?)"
#define EVENT_COLS 6

/* Appends N copies of ROW separated by commas to SQL (of CAP bytes, LEN used). */
static bool append_rows(char *sql, size_t cap, size_t *len, size_t n, const char *row)
{
    for (size_t i = 0; i < n; i++) {
        int k = snprintf(sql + *len, cap - *len, "%s%s", i ? ", " : "", row);
        if (k < 0 || (size_t)k >= cap - *len)
            return false;
        *len += (size_t)k;
    }
    return true;
}

/* Fails every item still waiting for the shared statements with the same reason. */
static enum gw_core_rc batch_failed(struct gw_job_batch_item *items, size_t n, enum gw_core_rc rc,
                                    const char *why)
{
    for (size_t i = 0; i < n; i++)
        if (items[i].rc == GW_CORE_OK) {
            items[i].rc = gw_core_fail(items[i].ctx, rc, "%s", why);
            items[i].job_id = 0;
            items[i].ref[0] = '\0';
        }
    return rc;
}

/* Takes K numbers of company C's counter in one statement: the last in *LAST. A company
 * that does not exist is refused by the counter's foreign key (NOT_FOUND). */
static enum gw_core_rc take_numbers(struct gw_core_ctx *c, uint64_t k, uint64_t *last)
{
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(k), GW_DB_INT(k)};
    if (gw_db_exec(c->db,
                   "INSERT INTO job_ref_counters (company_id, last_number) VALUES (?, "
                   "LAST_INSERT_ID(?)) ON DUPLICATE KEY UPDATE last_number = "
                   "LAST_INSERT_ID(last_number + ?)",
                   p, 3) < 0)
        return write_failed(c, "taking the next job numbers");
    *last = gw_db_last_insert_id(c->db);
    if (*last < k)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "the job counter returned no number");
    return GW_CORE_OK;
}

/* Numbers every checked item: one counter statement per company, in the items' order. */
static enum gw_core_rc number_items(struct gw_job_batch_item *items, size_t n, uint64_t *number)
{
    bool done[GW_JOB_BATCH_MAX] = {false};
    for (size_t i = 0; i < n; i++) {
        if (items[i].rc != GW_CORE_OK || done[i])
            continue;
        uint64_t company = items[i].ctx->company_id, k = 0, last = 0;
        for (size_t j = i; j < n; j++)
            k += items[j].rc == GW_CORE_OK && items[j].ctx->company_id == company;
        enum gw_core_rc rc = take_numbers(items[i].ctx, k, &last);
        if (rc == GW_CORE_DB_ERROR)
            return rc;
        char why[sizeof(items[i].ctx->err)];
        snprintf(why, sizeof(why), "%s", items[i].ctx->err);
        uint64_t next = last - k + 1;
        for (size_t j = i; j < n; j++) {
            if (items[j].rc != GW_CORE_OK || items[j].ctx->company_id != company)
                continue;
            done[j] = true;
            if (rc == GW_CORE_OK)
                number[j] = next++;
            else /* this company is refused; the others go on */
                items[j].rc = gw_core_fail(items[j].ctx, rc, "%s", why);
        }
    }
    return GW_CORE_OK;
}

/* One INSERT of every numbered job; RETURNING gives each its id, matched back by company
 * and number (never by the order of ids, which auto_increment settings may space). */
static enum gw_core_rc insert_jobs(struct gw_job_batch_item *items, size_t n,
                                   const uint64_t *number, const char *const *status,
                                   const char *const *priority)
{
    char sql[400 + GW_JOB_BATCH_MAX * sizeof(JOB_ROW ", ")];
    struct gw_db_value p[GW_JOB_BATCH_MAX * JOB_COLS];
    size_t len =
        (size_t)snprintf(sql, sizeof(sql), "%s",
                         "INSERT INTO jobs (company_id, number, title, description, "
                         "status, priority, source, team, client_id, contact_id, "
                         "assignee_user_id, created_by_user_id, due_at, closed_at) VALUES ");
    size_t rows = 0, k = 0;
    struct gw_db *db = NULL;
    for (size_t i = 0; i < n; i++) {
        if (items[i].rc != GW_CORE_OK)
            continue;
        const struct gw_core_ctx *c = items[i].ctx;
        const struct gw_job_new *j = items[i].job;
        db = c->db;
        p[k++] = GW_DB_INT(c->company_id);
        p[k++] = GW_DB_INT(number[i]);
        p[k++] = GW_DB_TEXT(j->title);
        p[k++] = j->description ? GW_DB_TEXT(j->description) : GW_DB_NULL;
        p[k++] = GW_DB_TEXT(status[i]);
        p[k++] = GW_DB_TEXT(priority[i]);
        p[k++] = GW_DB_TEXT(c->source);
        p[k++] = opt_text(j->team, j->team ? strlen(j->team) : 0);
        p[k++] = opt_id(j->client_id);
        p[k++] = opt_id(j->contact_id);
        p[k++] = opt_id(j->assignee_user_id);
        p[k++] = opt_id(j->created_by_user_id);
        p[k++] = j->due_at ? GW_DB_TEXT(j->due_at) : GW_DB_NULL;
        p[k++] = GW_DB_INT(is_closed_status(status[i]) ? 1 : 0);
        rows++;
    }
    if (rows == 0)
        return GW_CORE_OK;
    if (!append_rows(sql, sizeof(sql), &len, rows, JOB_ROW) ||
        snprintf(sql + len, sizeof(sql) - len, " RETURNING id, company_id, number") >=
            (int)(sizeof(sql) - len))
        return batch_failed(items, n, GW_CORE_INVALID, "the batch's statement does not fit");
    struct gw_db_rows *res = gw_db_query(db, sql, p, k, rows);
    if (res == NULL) {
        char why[200];
        snprintf(why, sizeof(why), "creating the jobs: %s", gw_db_error(db));
        return batch_failed(items, n, GW_CORE_DB_ERROR, why);
    }
    for (size_t r = 0; r < gw_db_rows_count(res); r++) {
        uint64_t id = (uint64_t)gw_db_rows_int(res, r, 0, 0);
        uint64_t company = (uint64_t)gw_db_rows_int(res, r, 1, 0);
        uint64_t num = (uint64_t)gw_db_rows_int(res, r, 2, 0);
        for (size_t i = 0; i < n; i++)
            if (items[i].rc == GW_CORE_OK && items[i].ctx->company_id == company &&
                number[i] == num)
                items[i].job_id = id;
    }
    gw_db_rows_free(res);
    for (size_t i = 0; i < n; i++)
        if (items[i].rc == GW_CORE_OK && items[i].job_id == 0)
            return batch_failed(items, n, GW_CORE_DB_ERROR, "a new job has no id");
    return GW_CORE_OK;
}

/* One INSERT of every new job's "created" history row. */
static enum gw_core_rc insert_created_events(struct gw_job_batch_item *items, size_t n,
                                             const char *const *status, const char *const *priority)
{
    char sql[200 + GW_JOB_BATCH_MAX * sizeof(EVENT_ROW ", ")];
    struct gw_db_value p[GW_JOB_BATCH_MAX * EVENT_COLS];
    char *detail[GW_JOB_BATCH_MAX] = {NULL};
    size_t len = (size_t)snprintf(sql, sizeof(sql), "%s",
                                  "INSERT INTO job_events (company_id, job_id, kind, detail, "
                                  "source, actor_user_id, webhook_event_id) VALUES ");
    size_t rows = 0, k = 0;
    struct gw_db *db = NULL;
    enum gw_core_rc rc = GW_CORE_OK;
    for (size_t i = 0; i < n && rc == GW_CORE_OK; i++) {
        if (items[i].rc != GW_CORE_OK)
            continue;
        const struct gw_core_ctx *c = items[i].ctx;
        cJSON *d = cJSON_CreateObject();
        if (d != NULL && cJSON_AddStringToObject(d, "ref", items[i].ref) != NULL &&
            cJSON_AddStringToObject(d, "status", status[i]) != NULL &&
            cJSON_AddStringToObject(d, "priority", priority[i]) != NULL)
            detail[i] = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
        if (detail[i] == NULL) {
            rc = batch_failed(items, n, GW_CORE_DB_ERROR, "out of memory");
            break;
        }
        db = c->db;
        p[k++] = GW_DB_INT(c->company_id);
        p[k++] = GW_DB_INT(items[i].job_id);
        p[k++] = GW_DB_TEXT(detail[i]);
        p[k++] = GW_DB_TEXT(c->source);
        p[k++] = opt_id(c->actor_user_id);
        p[k++] = opt_id(c->webhook_event_id);
        rows++;
    }
    if (rc == GW_CORE_OK && rows > 0) {
        if (!append_rows(sql, sizeof(sql), &len, rows, EVENT_ROW))
            rc = batch_failed(items, n, GW_CORE_INVALID, "the batch's statement does not fit");
        else if (gw_db_exec(db, sql, p, k) != (int64_t)rows) {
            char why[200];
            snprintf(why, sizeof(why), "writing the job history: %s", gw_db_error(db));
            rc = batch_failed(items, n, GW_CORE_DB_ERROR, why);
        }
    }
    for (size_t i = 0; i < n; i++)
        cJSON_free(detail[i]);
    return rc;
}

enum gw_core_rc gw_job_create_many(struct gw_job_batch_item *items, size_t n)
{
    if (items == NULL || n == 0 || n > GW_JOB_BATCH_MAX)
        return GW_CORE_INVALID;
    const char *status[GW_JOB_BATCH_MAX], *priority[GW_JOB_BATCH_MAX];
    uint64_t number[GW_JOB_BATCH_MAX] = {0};
    const struct gw_db *db = NULL;
    for (size_t i = 0; i < n; i++) {
        struct gw_job_batch_item *it = &items[i];
        it->job_id = 0;
        it->ref[0] = '\0';
        if (it->ctx == NULL) {
            it->rc = GW_CORE_INVALID;
            continue;
        }
        /* One connection: the shared statements run on it, in its caller's transaction. */
        if (db == NULL && it->ctx->db != NULL)
            db = it->ctx->db;
        if (it->ctx->db != db) {
            it->rc = gw_core_fail(it->ctx, GW_CORE_INVALID, "a batch runs on one connection");
            continue;
        }
        /* Each item's own checks, reads only, before any counter is locked. The inbox event
         * is proved here (usually already, by the command's first statement), not by the
         * counter statement, which serves several events at once. */
        it->rc = create_checks(it->ctx, it->job, &status[i], &priority[i]);
        if (it->rc == GW_CORE_OK)
            it->rc = check_event(it->ctx);
    }
    enum gw_core_rc rc = number_items(items, n, number);
    if (rc != GW_CORE_OK)
        return batch_failed(items, n, rc, "taking the next job numbers failed");
    if ((rc = insert_jobs(items, n, number, status, priority)) != GW_CORE_OK)
        return rc;
    for (size_t i = 0; i < n; i++)
        if (items[i].rc == GW_CORE_OK)
            ref_of(number[i], items[i].ref);
    return insert_created_events(items, n, status, priority);
}

enum gw_core_rc gw_job_find(struct gw_core_ctx *c, const char *ref, uint64_t *job_id)
{
    enum gw_core_rc rc = check_ctx(c, false);
    if (rc != GW_CORE_OK)
        return rc;
    if (job_id == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_job_find: missing argument");
    char norm[32];
    if (gw_job_ref_normalise(ref, norm) != 0)
        return gw_core_fail(c, GW_CORE_INVALID, "not a ticket reference (expected CT-000123)");
    /* Finding the job is the first statement of most commands on one: it proves the inbox
     * event on the way (EVENT_PROOF). */
    bool prove = !event_proved(c);
    struct gw_db_value p[4];
    event_params(c, p);
    p[2] = GW_DB_INT(c->company_id);
    p[3] = GW_DB_TEXT(norm);
    struct gw_db_rows *rows =
        prove ? gw_db_query(c->db,
                            "SELECT id, " EVENT_PROOF " FROM jobs WHERE company_id = ? AND ref = ?",
                            p, 4, 1)
              : gw_db_query(c->db, "SELECT id FROM jobs WHERE company_id = ? AND ref = ?", p + 2, 2,
                            1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding the job");
    int64_t id = gw_db_rows_count(rows) == 1 ? gw_db_rows_int(rows, 0, 0, 0) : 0;
    if (prove)
        note_event_proof(c, rows, 1);
    gw_db_rows_free(rows);
    if (id <= 0)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "no job %s in this company", norm);
    *job_id = (uint64_t)id;
    return GW_CORE_OK;
}

/* ---- comments ------------------------------------------------------------------------- */

static enum gw_core_rc check_comment(struct gw_core_ctx *c, const struct gw_comment_new *cm,
                                     const char *visibility)
{
    enum gw_core_rc rc;
    if ((rc = check_text(c, "comment body", cm->body, cm->body ? strlen(cm->body) : 0, UNBOUNDED,
                         MEDIUMTEXT_BYTES, true)) != GW_CORE_OK ||
        (rc = check_varchar(c, "author label", cm->author_label, LABEL_CHARS, false)) !=
            GW_CORE_OK ||
        (rc = check_varchar(c, "email message id", cm->email_message_id, MESSAGE_ID_CHARS,
                            false)) != GW_CORE_OK)
        return rc;
    if (!in_set(visibility, visibilities))
        return gw_core_fail(c, GW_CORE_INVALID, "visibility must be " VISIBILITY_LIST);
    if (cm->author_user_id == 0 && cm->author_contact_id == 0 &&
        (cm->author_label == NULL || is_blank(cm->author_label)))
        return gw_core_fail(c, GW_CORE_INVALID, "a comment needs an author user, contact or label");
    return GW_CORE_OK;
}

enum gw_core_rc gw_job_comment(struct gw_core_ctx *c, uint64_t job_id,
                               const struct gw_comment_new *cm, uint64_t *comment_id)
{
    enum gw_core_rc rc = check_ctx(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (cm == NULL || comment_id == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_job_comment: missing argument");
    const char *visibility = cm->visibility ? cm->visibility : "internal";
    if ((rc = check_comment(c, cm, visibility)) != GW_CORE_OK)
        return rc;
    if ((rc = check_ctx_refs(c)) != GW_CORE_OK || (rc = need_job(c, job_id)) != GW_CORE_OK)
        return rc;
    if (cm->author_user_id != 0 && (rc = need_user(c, cm->author_user_id, "author")) != GW_CORE_OK)
        return rc;
    if (cm->author_contact_id != 0 && (rc = need_contact(c, cm->author_contact_id)) != GW_CORE_OK)
        return rc;

    struct gw_db_value p[] = {
        GW_DB_INT(c->company_id),
        GW_DB_INT(job_id),
        opt_id(cm->author_user_id),
        opt_id(cm->author_contact_id),
        opt_text(cm->author_label, cm->author_label ? strlen(cm->author_label) : 0),
        GW_DB_TEXT(cm->body),
        GW_DB_TEXT(c->source),
        GW_DB_TEXT(visibility),
        opt_text(cm->email_message_id, cm->email_message_id ? strlen(cm->email_message_id) : 0),
        opt_id(c->webhook_event_id),
    };
    if (gw_db_exec(c->db,
                   "INSERT INTO job_comments (company_id, job_id, author_user_id, "
                   "author_contact_id, author_label, body, source, visibility, "
                   "email_message_id, webhook_event_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   p, sizeof(p) / sizeof(p[0])) < 0)
        return gw_core_db_fail(c, "adding the comment");
    uint64_t id = gw_db_last_insert_id(c->db);
    if (id == 0)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "the new comment has no id");

    cJSON *d = cJSON_CreateObject();
    bool ok = d != NULL && add_id(d, "comment_id", id) &&
              cJSON_AddStringToObject(d, "visibility", visibility) != NULL;
    if ((rc = emit(c, job_id, "commented", d, ok)) != GW_CORE_OK)
        return rc;
    *comment_id = id;
    return GW_CORE_OK;
}

/* ---- status, assignment, priority ----------------------------------------------------- */

/* A {from, to} history row; NULL is written as JSON null (no due time, say). */
static enum gw_core_rc emit_change(struct gw_core_ctx *c, uint64_t job_id, const char *kind,
                                   const char *from, const char *to)
{
    cJSON *d = cJSON_CreateObject();
    bool ok = d != NULL &&
              (from ? cJSON_AddStringToObject(d, "from", from)
                    : cJSON_AddNullToObject(d, "from")) != NULL &&
              (to ? cJSON_AddStringToObject(d, "to", to) : cJSON_AddNullToObject(d, "to")) != NULL;
    return emit(c, job_id, kind, d, ok);
}

enum gw_core_rc gw_job_set_due(struct gw_core_ctx *c, uint64_t job_id, const char *due_at)
{
    enum gw_core_rc rc = check_ctx(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (due_at != NULL && !valid_datetime(due_at))
        return gw_core_fail(c, GW_CORE_INVALID,
                            "due_at must be a real UTC time YYYY-MM-DD HH:MM:SS");
    struct job_state st;
    if ((rc = check_ctx_refs(c)) != GW_CORE_OK || (rc = lock_job(c, job_id, &st)) != GW_CORE_OK)
        return rc;
    const char *from = st.due_at[0] != '\0' ? st.due_at : NULL;
    if (from == NULL ? due_at == NULL : due_at != NULL && strcmp(from, due_at) == 0)
        return GW_CORE_OK;
    struct gw_db_value p[] = {due_at ? GW_DB_TEXT(due_at) : GW_DB_NULL, GW_DB_INT(c->company_id),
                              GW_DB_INT(job_id)};
    if (gw_db_exec(c->db, "UPDATE jobs SET due_at = ? WHERE company_id = ? AND id = ?", p, 3) < 0)
        return gw_core_db_fail(c, "setting the job's due time");
    return emit_change(c, job_id, "due_changed", from, due_at);
}

enum gw_core_rc gw_job_set_status(struct gw_core_ctx *c, uint64_t job_id, const char *status)
{
    enum gw_core_rc rc = check_ctx(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (!in_set(status, statuses))
        return gw_core_fail(c, GW_CORE_INVALID, "status must be one of " STATUS_LIST);
    struct job_state st;
    if ((rc = check_ctx_refs(c)) != GW_CORE_OK || (rc = lock_job(c, job_id, &st)) != GW_CORE_OK)
        return rc;
    if (strcmp(st.status, status) == 0)
        return GW_CORE_OK;
    /* Closing keeps the first closing time (done then closed is one closure); any other
     * status reopens the job. */
    struct gw_db_value p[] = {GW_DB_TEXT(status), GW_DB_INT(is_closed_status(status) ? 1 : 0),
                              GW_DB_INT(c->company_id), GW_DB_INT(job_id)};
    if (gw_db_exec(c->db,
                   "UPDATE jobs SET status = ?, closed_at = IF(?, COALESCE(closed_at, "
                   "UTC_TIMESTAMP(3)), NULL) WHERE company_id = ? AND id = ?",
                   p, 4) < 0)
        return gw_core_db_fail(c, "changing the job status");
    return emit_change(c, job_id, "status_changed", st.status, status);
}

enum gw_core_rc gw_job_assign(struct gw_core_ctx *c, uint64_t job_id, uint64_t user_id)
{
    enum gw_core_rc rc = check_ctx(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    struct job_state st;
    if ((rc = check_ctx_refs(c)) != GW_CORE_OK || (rc = lock_job(c, job_id, &st)) != GW_CORE_OK)
        return rc;
    if (user_id != 0 && (rc = need_user(c, user_id, "assignee")) != GW_CORE_OK)
        return rc;
    if (st.assignee == user_id)
        return GW_CORE_OK;
    struct gw_db_value p[] = {opt_id(user_id), GW_DB_INT(c->company_id), GW_DB_INT(job_id)};
    if (gw_db_exec(c->db, "UPDATE jobs SET assignee_user_id = ? WHERE company_id = ? AND id = ?", p,
                   3) < 0)
        return gw_core_db_fail(c, "assigning the job");
    cJSON *d = cJSON_CreateObject();
    bool ok = d != NULL && add_id(d, "from", st.assignee) && add_id(d, "to", user_id);
    return emit(c, job_id, "assigned", d, ok);
}

enum gw_core_rc gw_job_set_priority(struct gw_core_ctx *c, uint64_t job_id, const char *priority)
{
    enum gw_core_rc rc = check_ctx(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (!in_set(priority, priorities))
        return gw_core_fail(c, GW_CORE_INVALID, "priority must be one of " PRIORITY_LIST);
    struct job_state st;
    if ((rc = check_ctx_refs(c)) != GW_CORE_OK || (rc = lock_job(c, job_id, &st)) != GW_CORE_OK)
        return rc;
    if (strcmp(st.priority, priority) == 0)
        return GW_CORE_OK;
    struct gw_db_value p[] = {GW_DB_TEXT(priority), GW_DB_INT(c->company_id), GW_DB_INT(job_id)};
    if (gw_db_exec(c->db, "UPDATE jobs SET priority = ? WHERE company_id = ? AND id = ?", p, 3) < 0)
        return gw_core_db_fail(c, "changing the job priority");
    return emit_change(c, job_id, "priority_changed", st.priority, priority);
}

/* ---- time ----------------------------------------------------------------------------- */

enum gw_core_rc gw_time_add(struct gw_core_ctx *c, uint64_t job_id, uint64_t user_id,
                            unsigned minutes, const char *note, const char *spent_on,
                            uint64_t *entry_id)
{
    enum gw_core_rc rc = check_ctx(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (entry_id == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_time_add: missing argument");
    if (minutes < 1 || minutes > MAX_MINUTES)
        return gw_core_fail(c, GW_CORE_INVALID, "minutes must be between 1 and %d", MAX_MINUTES);
    if ((rc = check_varchar(c, "note", note, NOTE_CHARS, false)) != GW_CORE_OK)
        return rc;
    if (spent_on != NULL && !valid_date(spent_on))
        return gw_core_fail(c, GW_CORE_INVALID, "spent_on must be a real date YYYY-MM-DD");
    if (user_id == 0)
        return gw_core_fail(c, GW_CORE_INVALID, "a time entry needs a user");
    if ((rc = check_ctx_refs(c)) != GW_CORE_OK || (rc = need_job(c, job_id)) != GW_CORE_OK ||
        (rc = need_user(c, user_id, "user")) != GW_CORE_OK)
        return rc;

    struct gw_db_value p[] = {
        GW_DB_INT(c->company_id),
        GW_DB_INT(job_id),
        GW_DB_INT(user_id),
        GW_DB_INT(minutes),
        opt_text(note, note ? strlen(note) : 0),
        spent_on ? GW_DB_TEXT(spent_on) : GW_DB_NULL,
        GW_DB_TEXT(c->source),
        opt_id(c->webhook_event_id),
    };
    if (gw_db_exec(c->db,
                   "INSERT INTO time_entries (company_id, job_id, user_id, minutes, note, "
                   "spent_on, source, webhook_event_id) VALUES (?, ?, ?, ?, ?, "
                   "COALESCE(?, UTC_DATE()), ?, ?)",
                   p, sizeof(p) / sizeof(p[0])) < 0)
        return gw_core_db_fail(c, "adding the time entry");
    uint64_t id = gw_db_last_insert_id(c->db);
    if (id == 0)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "the new time entry has no id");

    cJSON *d = cJSON_CreateObject();
    bool ok = d != NULL && cJSON_AddNumberToObject(d, "minutes", minutes) != NULL &&
              add_id(d, "entry_id", id) && add_id(d, "user_id", user_id);
    if ((rc = emit(c, job_id, "time_added", d, ok)) != GW_CORE_OK)
        return rc;
    *entry_id = id;
    return GW_CORE_OK;
}

/* ---- contacts and users --------------------------------------------------------------- */

enum gw_core_rc gw_contact_upsert(struct gw_core_ctx *c, const char *email, const char *name,
                                  const char *phone, uint64_t *contact_id)
{
    enum gw_core_rc rc = check_ctx(c, false);
    if (rc != GW_CORE_OK)
        return rc;
    if (email == NULL || contact_id == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_contact_upsert: missing argument");
    const char *em, *nm = NULL, *ph = NULL;
    size_t em_len, nm_len = 0, ph_len = 0;
    trim(email, &em, &em_len);
    if (!gw_text_email_valid(em, em_len))
        return gw_core_fail(c, GW_CORE_INVALID, "not a valid e-mail address");
    if (name != NULL)
        trim(name, &nm, &nm_len);
    if (phone != NULL)
        trim(phone, &ph, &ph_len);
    if ((rc = check_text(c, "name", nm, nm_len, NAME_CHARS, NAME_CHARS * 4, false)) != GW_CORE_OK ||
        (rc = check_text(c, "phone", ph, ph_len, PHONE_CHARS, PHONE_CHARS * 4, false)) !=
            GW_CORE_OK)
        return rc;

    /* One statement, so two workers upserting the same address cannot both insert: the
     * unique key (company_id, email) — case-insensitive by its collation — decides, and
     * LAST_INSERT_ID(id) reports the existing row's id on a match. A match only fills what
     * the contact lacks. uq_contacts_email also covers soft-deleted contacts, so a match may
     * be a deleted one: it is restored, since a person who writes in again is a contact
     * again and a second row for the address cannot exist. */
    struct gw_db_value p[] = {
        GW_DB_INT(c->company_id), GW_DB_TEXTN(em, em_len), opt_text(nm, nm_len),
        opt_text(ph, ph_len),     opt_text(nm, nm_len),    opt_text(ph, ph_len),
    };
    if (gw_db_exec(c->db,
                   "INSERT INTO contacts (company_id, email, name, phone) VALUES (?, ?, ?, ?) "
                   "ON DUPLICATE KEY UPDATE id = LAST_INSERT_ID(id), "
                   "name = IF(name IS NULL OR name = '', COALESCE(?, name), name), "
                   "phone = IF(phone IS NULL OR phone = '', COALESCE(?, phone), phone), "
                   "deleted_at = NULL",
                   p, sizeof(p) / sizeof(p[0])) < 0)
        return write_failed(c, "saving the contact"); /* its foreign key proves the company */
    uint64_t id = gw_db_last_insert_id(c->db);
    if (id == 0)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "the contact has no id");
    *contact_id = id;
    memo_contact(c, id);
    return GW_CORE_OK;
}

enum gw_core_rc gw_user_find_by_email(struct gw_core_ctx *c, const char *email, uint64_t *user_id)
{
    enum gw_core_rc rc = check_ctx(c, false);
    if (rc != GW_CORE_OK)
        return rc;
    if (email == NULL || user_id == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_user_find_by_email: missing argument");
    const char *em;
    size_t em_len;
    trim(email, &em, &em_len);
    if (!gw_text_email_valid(em, em_len))
        return gw_core_fail(c, GW_CORE_INVALID, "not a valid e-mail address");
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXTN(em, em_len)};
    struct gw_db_rows *rows = gw_db_query(
        c->db, "SELECT id FROM users WHERE company_id = ? AND email = ? AND deleted_at IS NULL", p,
        2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding the user");
    int64_t id = gw_db_rows_count(rows) == 1 ? gw_db_rows_int(rows, 0, 0, 0) : 0;
    gw_db_rows_free(rows);
    if (id <= 0)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "no user with this e-mail in this company");
    *user_id = (uint64_t)id;
    memo_user(c, *user_id);
    return GW_CORE_OK;
}

/* A chat command's first statement looks its caller up: it proves the inbox event on the way
 * (EVENT_PROOF), so that no command pays a statement for that proof. */
enum gw_core_rc gw_user_find_by_slack_id(struct gw_core_ctx *c, const char *slack_id,
                                         struct gw_user *u)
{
    enum gw_core_rc rc = check_ctx(c, false);
    if (rc != GW_CORE_OK)
        return rc;
    if (slack_id == NULL || *slack_id == '\0' || u == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_user_find_by_slack_id: missing argument");
    memset(u, 0, sizeof(*u));
    bool prove = !event_proved(c);
    struct gw_db_value p[4];
    event_params(c, p);
    p[2] = GW_DB_INT(c->company_id);
    p[3] = GW_DB_TEXT(slack_id);
    struct gw_db_rows *rows =
        prove ? gw_db_query(c->db,
                            "SELECT id, role, COALESCE(client_id, 0), " EVENT_PROOF
                            " FROM users WHERE company_id = ? AND slack_user_id = ? AND "
                            "deleted_at IS NULL",
                            p, 4, 1)
              : gw_db_query(c->db,
                            "SELECT id, role, COALESCE(client_id, 0) FROM users WHERE "
                            "company_id = ? AND slack_user_id = ? AND deleted_at IS NULL",
                            p + 2, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding the user");
    if (gw_db_rows_count(rows) == 1) {
        const char *role = gw_db_rows_text(rows, 0, 1, NULL);
        u->id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
        u->client_id = (uint64_t)gw_db_rows_int(rows, 0, 2, 0);
        snprintf(u->role, sizeof(u->role), "%s", role ? role : "");
        if (prove)
            note_event_proof(c, rows, 3);
    }
    gw_db_rows_free(rows);
    if (u->id == 0)
        return gw_core_fail(c, GW_CORE_NOT_FOUND, "no user linked to this Slack account");
    memo_user(c, u->id);
    return GW_CORE_OK;
}

/* ---- history and companies ------------------------------------------------------------ */

enum gw_core_rc gw_job_event(struct gw_core_ctx *c, uint64_t job_id, const char *kind,
                             const char *detail_json)
{
    enum gw_core_rc rc = check_ctx(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (kind == NULL || !valid_kind(kind))
        return gw_core_fail(c, GW_CORE_INVALID, "event kind must be 1..%d of a-z, 0-9 and _",
                            KIND_CHARS);
    char *text = NULL;
    if (detail_json != NULL) {
        if (strlen(detail_json) > DETAIL_BYTES)
            return gw_core_fail(c, GW_CORE_INVALID, "event detail is longer than %u bytes",
                                DETAIL_BYTES);
        cJSON *d = cJSON_ParseWithOpts(detail_json, NULL, true);
        if (d == NULL || !cJSON_IsObject(d)) {
            cJSON_Delete(d);
            return gw_core_fail(c, GW_CORE_INVALID, "event detail must be a JSON object");
        }
        /* Store cJSON's own rendering, so the server's JSON check sees what we validated. */
        text = cJSON_PrintUnformatted(d);
        cJSON_Delete(d);
        if (text == NULL)
            return oom(c);
    }
    if ((rc = check_ctx_refs(c)) == GW_CORE_OK && (rc = need_job(c, job_id)) == GW_CORE_OK)
        rc = insert_event(c, job_id, kind, text);
    cJSON_free(text);
    return rc;
}

enum gw_core_rc gw_company_find(struct gw_db *db, const char *slug, uint64_t *company_id)
{
    if (db == NULL || slug == NULL || company_id == NULL || !valid_slug(slug))
        return GW_CORE_INVALID;
    struct gw_db_value p[] = {GW_DB_TEXT(slug)};
    struct gw_db_rows *rows = gw_db_query(db, "SELECT id FROM companies WHERE slug = ?", p, 1, 1);
    if (rows == NULL)
        return GW_CORE_DB_ERROR;
    int64_t id = gw_db_rows_count(rows) == 1 ? gw_db_rows_int(rows, 0, 0, 0) : 0;
    gw_db_rows_free(rows);
    if (id <= 0)
        return GW_CORE_NOT_FOUND;
    *company_id = (uint64_t)id;
    return GW_CORE_OK;
}
