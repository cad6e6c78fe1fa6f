/* slack.c — provider `slack`: the /job slash command. A workspace is a company through
 * integrations (team_id), a Slack user a CanTicket user through users.slack_user_id; each
 * command is checked against the caller's role, applied in the worker's transaction, and
 * answered within the endpoint's reply_deadline or later through response_url. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapters/endpoint_keys.h"
#include "adapters/provider.h"
#include "adapters/slack/config.h"
#include "adapters/slack/reply.h"
#include "adapters/slack/text.h"
#include "config/config.h"
#include "gateway/base/log.h"
#include "gateway/base/text.h"
#include "gateway/core/audit.h"
#include "gateway/core/job_views.h"
#include "verifiers/form.h"
#include "verifiers/slack.h"

#define DEFAULT_COMMAND     "/job"
#define DEFAULT_DEADLINE_MS 2500
#define TEXT_MAX            8192 /* bytes of the command text we read */
#define REPLY_MAX           3800 /* bytes of an answer: Slack shows up to 4000 characters */
#define TITLE_CHARS         300
#define NOTE_CHARS          2000
#define LIST_MAX            10
#define SHOW_COMMENTS       3 /* the latest public comments `show` prints */

static const char unknown_workspace[] = "This Slack workspace isn't connected to CanTicket.";
static const char working[] = "Working on it\xE2\x80\xA6";
#define NOT_SAVED "CanTicket could not save this command, nothing was changed: please try again."
/* Said at once, or posted to the response_url when the answer already said "Working on it". */
static const char not_saved[] = NOT_SAVED;
static const char not_applied[] = "Sorry, that command could not be applied.";

/* The fields of a slash command (Slack's form-encoded payload) we use. */
struct command {
    char ssl_check[8], team_id[64], user_id[64], command[64], trigger_id[256];
    char api_app_id[64], enterprise_id[64], is_enterprise_install[8];
    char response_url[1100];
    char text[TEXT_MAX];
    size_t ssl_check_count, command_count;
};

enum {
    F_SSL,
    F_TEAM,
    F_USER,
    F_COMMAND,
    F_TRIGGER,
    F_RESPONSE_URL,
    F_TEXT,
    F_APP,
    F_ENTERPRISE,
    F_ENTERPRISE_INSTALL,
    F_N
};

static bool read_command(const unsigned char *body, size_t len, struct command *c)
{
    memset(c, 0, sizeof(*c));
    struct gw_form_field f[F_N] = {
        [F_SSL] = {.name = "ssl_check", .value = c->ssl_check, .cap = sizeof(c->ssl_check)},
        [F_TEAM] = {.name = "team_id", .value = c->team_id, .cap = sizeof(c->team_id)},
        [F_USER] = {.name = "user_id", .value = c->user_id, .cap = sizeof(c->user_id)},
        [F_COMMAND] = {.name = "command", .value = c->command, .cap = sizeof(c->command)},
        [F_TRIGGER] = {.name = "trigger_id", .value = c->trigger_id, .cap = sizeof(c->trigger_id)},
        [F_RESPONSE_URL] = {.name = "response_url",
                            .value = c->response_url,
                            .cap = sizeof(c->response_url)},
        [F_TEXT] = {.name = "text", .value = c->text, .cap = sizeof(c->text)},
        [F_APP] = {.name = "api_app_id", .value = c->api_app_id, .cap = sizeof(c->api_app_id)},
        [F_ENTERPRISE] = {.name = "enterprise_id",
                          .value = c->enterprise_id,
                          .cap = sizeof(c->enterprise_id)},
        [F_ENTERPRISE_INSTALL] = {.name = "is_enterprise_install",
                                  .value = c->is_enterprise_install,
                                  .cap = sizeof(c->is_enterprise_install)},
    };
    if (!gw_form_urlencoded_read(body, len, f, F_N, NULL))
        return false;
    for (size_t i = 0; i < F_N; i++)
        if (f[i].too_long || f[i].count > 1 || strlen(f[i].value) != f[i].len)
            return false; /* repeated, too long, or holding a NUL byte */
    c->ssl_check_count = f[F_SSL].count;
    c->command_count = f[F_COMMAND].count;
    return true;
}

static bool is_ssl_check(const struct command *c)
{
    return c->ssl_check_count == 1 && strcmp(c->ssl_check, "1") == 0 && c->command_count == 0;
}

/* An id Slack gives (T…, U…, trigger ids): printable ASCII without spaces, 1..cap. */
static bool token_ok(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (*s <= 0x20 || *s >= 0x7f)
            return false;
    return true;
}

/* The account a command belongs to: an org-wide Enterprise Grid install is one
 * installation for every workspace of the org, keyed by enterprise_id (E…); anything else
 * by its workspace, team_id (T…). Either is an integrations.external_id. NULL when the
 * command claims an org-wide install without a usable enterprise_id. */
static const char *account_of(const struct command *c)
{
    if (strcmp(c->is_enterprise_install, "true") != 0)
        return c->team_id;
    return token_ok(c->enterprise_id) ? c->enterprise_id : NULL;
}

static bool command_configured(const struct gw_endpoint_config *ep, const char *name)
{
    const struct gw_slack_config *sc = gw_slack_config_of(ep);
    if (sc->n_commands == 0)
        return strcmp(name, DEFAULT_COMMAND) == 0;
    for (size_t i = 0; i < sc->n_commands; i++)
        if (strcmp(sc->commands[i], name) == 0)
            return true;
    return false;
}

/* {"response_type":"ephemeral","text":TEXT} as an answer with status 200. */
static void answer_text(struct gw_answer *a, const char *text)
{
    cJSON *o = cJSON_CreateObject();
    char *json = NULL;
    if (o != NULL && cJSON_AddStringToObject(o, "response_type", "ephemeral") != NULL &&
        cJSON_AddStringToObject(o, "text", text) != NULL)
        json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    gw_answer_set(a, 200, NULL);
    a->body = json;
    a->content_type = "application/json";
}

/* The answer to ssl_check: 200 with an empty body. */
static void probe_ok(struct gw_answer *a)
{
    gw_answer_set(a, 200, NULL);
}

/* ssl_check=1 and nothing else that a command carries: 200, empty, nothing stored. */
static enum gw_precheck_rc precheck(const struct gw_inbound *in, struct gw_answer *a)
{
    static const char key[] = "ssl_check=";
    /* Commands far outnumber probes: skip the parse unless the key is there at all. */
    if (memmem(in->body, in->body_len, key, sizeof(key) - 1) == NULL)
        return GW_PRECHECK_VERIFY;
    struct command *c = malloc(sizeof(*c));
    enum gw_precheck_rc answered = GW_PRECHECK_VERIFY;
    if (c != NULL && read_command(in->body, in->body_len, c) && is_ssl_check(c)) {
        probe_ok(a);
        answered = GW_PRECHECK_ANSWERED;
    }
    free(c);
    return answered;
}

static enum gw_envelope_rc envelope(const struct gw_inbound *in, struct gw_envelope *out,
                                    size_t max, size_t *n, struct gw_answer *answer)
{
    (void)max;
    struct command *c = malloc(sizeof(*c));
    enum gw_envelope_rc rc = GW_ENVELOPE_ANSWER;
    if (c == NULL)
        return GW_ENVELOPE_UNAVAILABLE;
    if (!read_command(in->body, in->body_len, c)) {
        gw_answer_set(answer, 400, "{\"error\":\"invalid_form\"}");
    } else if (is_ssl_check(c)) {
        probe_ok(answer);
    } else if (!token_ok(c->command)) {
        gw_answer_set(answer, 400, "{\"error\":\"invalid_field\",\"field\":\"command\"}");
    } else if (!token_ok(c->team_id)) {
        gw_answer_set(answer, 400, "{\"error\":\"invalid_field\",\"field\":\"team_id\"}");
    } else if (!token_ok(c->user_id)) {
        gw_answer_set(answer, 400, "{\"error\":\"invalid_field\",\"field\":\"user_id\"}");
    } else if (!token_ok(c->trigger_id) || strlen(c->trigger_id) > GW_DEDUPE_KEY_MAX) {
        gw_answer_set(answer, 400, "{\"error\":\"invalid_field\",\"field\":\"trigger_id\"}");
    } else if (account_of(c) == NULL) {
        gw_answer_set(answer, 400, "{\"error\":\"invalid_field\",\"field\":\"enterprise_id\"}");
    } else if (gw_slack_config_of(in->endpoint)->app_id != NULL &&
               strcmp(c->api_app_id, gw_slack_config_of(in->endpoint)->app_id) != 0) {
        /* Signed with this endpoint's secret yet addressed to another app: a Request URL
         * pasted into the wrong app, or an app sharing a secret it should not. */
        answer_text(answer, "This command was sent to a Slack app this CanTicket endpoint "
                            "does not serve.");
        answer->audit_reason = "slack api_app_id is not the configured app_id";
    } else if (!command_configured(in->endpoint, c->command)) {
        char msg[160];
        size_t len = 0;
        msg[0] = '\0';
        gw_slack_append(msg, sizeof(msg), &len, "This app does not answer ");
        gw_slack_escape_append(msg, sizeof(msg), &len, c->command);
        gw_slack_append(msg, sizeof(msg), &len, ".");
        answer_text(answer, msg);
    } else {
        snprintf(out[0].dedupe_key, sizeof(out[0].dedupe_key), "%s", c->trigger_id);
        snprintf(out[0].tenant, sizeof(out[0].tenant), "%s", account_of(c));
        *n = 1;
        rc = GW_ENVELOPE_STORE;
    }
    free(c);
    return rc;
}

/* The text of a stored result {"response_type":…,"text":…}, or NULL. */
static char *result_text(const char *result, long long *invoked_at)
{
    cJSON *o = result ? cJSON_Parse(result) : NULL;
    const cJSON *t = o ? cJSON_GetObjectItemCaseSensitive(o, "text") : NULL;
    const cJSON *at = o ? cJSON_GetObjectItemCaseSensitive(o, "invoked_at") : NULL;
    char *out = cJSON_IsString(t) ? strdup(t->valuestring) : NULL;
    if (invoked_at != NULL)
        *invoked_at = cJSON_IsNumber(at) ? (long long)at->valuedouble : 0;
    cJSON_Delete(o);
    return out;
}

static void answer(enum gw_outcome outcome, const struct gw_stored *stored, struct gw_answer *a)
{
    switch (outcome) {
    case GW_OUTCOME_APPLIED:
    case GW_OUTCOME_DUPLICATE: {
        /* Re-serialised from the stored text: only response_type and text ever leave. */
        char *text = result_text(stored->result, NULL);
        answer_text(a, text ? text : working);
        free(text);
        return;
    }
    case GW_OUTCOME_ACCEPTED:
    case GW_OUTCOME_TIMEOUT:
        answer_text(a, working);
        return;
    case GW_OUTCOME_FAILED:
        answer_text(a, not_applied);
        return;
    case GW_OUTCOME_IGNORED:
        answer_text(a, unknown_workspace);
        return;
    case GW_OUTCOME_UNAVAILABLE: /* answered by the gateway */
        break;
    }
    answer_text(a, working);
}

/* ------------------------------------------------------------------ apply */

enum role { R_ADMIN, R_MANAGER, R_STAFF, R_CONTRACTOR, R_CLIENT, R_UNKNOWN };
static const char *const role_names[] = {"admin", "manager", "staff", "contractor", "client"};

struct caller {
    uint64_t id, client_id;
    enum role role;
    const char *slack_id;
};

/* The reply being built: our own words as they are, users' words escaped. */
struct reply {
    char buf[REPLY_MAX];
    size_t len;
};

static void say(struct reply *r, const char *s)
{
    gw_slack_append(r->buf, sizeof(r->buf), &r->len, s);
}

static void say_user(struct reply *r, const char *s)
{
    gw_slack_escape_append(r->buf, sizeof(r->buf), &r->len, s ? s : "");
}

struct run {
    struct gw_apply *ctx;
    struct caller me;
    struct reply out;
    const char *command; /* "/job" */
    const char *verb;
};

static bool staff_role(enum role r)
{
    return r == R_ADMIN || r == R_MANAGER || r == R_STAFF;
}

static const char *const usages[][2] = {
    {"new", "new TITLE [| DESCRIPTION]"},
    {"show", "show REF"},
    {"list", "list [open|mine|all]"},
    {"comment", "comment REF TEXT"},
    {"status", "status REF new|open|in_progress|on_hold|done|closed"},
    {"close", "close REF"},
    {"reopen", "reopen REF"},
    {"assign", "assign REF @user|me|EMAIL"},
    {"time", "time REF DURATION [NOTE]  (90m, 1h30m, 1.5h, 2h)"},
};

static enum gw_apply_rc usage(struct run *r)
{
    for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++)
        if (strcmp(usages[i][0], r->verb) == 0) {
            say(&r->out, "Usage: `");
            say(&r->out, r->command);
            say(&r->out, " ");
            say(&r->out, usages[i][1]);
            say(&r->out, "`");
        }
    return GW_APPLY_DONE;
}

static enum gw_apply_rc help(struct run *r)
{
    say(&r->out, "Usage:");
    for (size_t i = 0; i < sizeof(usages) / sizeof(usages[0]); i++) {
        say(&r->out, "\n`");
        say(&r->out, r->command);
        say(&r->out, " ");
        say(&r->out, usages[i][1]);
        say(&r->out, "`");
    }
    say(&r->out, "\nREF is CT-000123, ct-123 or 123.");
    return GW_APPLY_DONE;
}

static enum gw_apply_rc db_failed(struct run *r)
{
    snprintf(r->ctx->error, sizeof(r->ctx->error), "database: %s", gw_db_error(r->ctx->core.db));
    return GW_APPLY_RETRY;
}

static enum gw_apply_rc core_failed(struct run *r, enum gw_core_rc rc)
{
    if (rc == GW_CORE_DB_ERROR)
        return db_failed(r);
    say(&r->out, "That could not be done: ");
    say_user(&r->out, r->ctx->core.err);
    return GW_APPLY_DONE;
}

/* Refuses: tells the caller what they may not do and writes an audit_log row (in the
 * event's transaction, so it exists exactly when the answer was given). */
static enum gw_apply_rc refuse(struct run *r, const char *what, const char *ref, const char *why)
{
    char reason[255];
    snprintf(reason, sizeof(reason), "%s may not %s%s%s", role_names[r->me.role], what,
             ref ? " " : "", ref ? ref : "");
    const struct gw_command_refusal row = {
        .kind = "slack_command_refused",
        .endpoint = r->ctx->endpoint ? r->ctx->endpoint->id : "slack",
        .reason = reason,
        .actor = r->me.slack_id,
        .command = r->verb,
        .ref = ref,
        .user_id = r->me.id,
    };
    enum gw_core_rc rc = gw_audit_command_refused(&r->ctx->core, &row);
    if (rc != GW_CORE_OK)
        return db_failed(r);
    say(&r->out, "You may not ");
    say(&r->out, what);
    if (ref != NULL) {
        say(&r->out, " ");
        say(&r->out, ref);
    }
    say(&r->out, ": ");
    say(&r->out, why);
    return GW_APPLY_DONE;
}

/* Reads a REF word and finds the job in this company, with what `show` prints when
 * `details`. DONE with job->id set, DONE with job->id 0 when answered (usage, not found),
 * RETRY on database errors. */
static enum gw_apply_rc find_job_view(struct run *r, const char **rest, struct gw_job_view *job,
                                      bool details)
{
    char word[40];
    memset(job, 0, sizeof(*job));
    if (!gw_slack_next_word(rest, word, sizeof(word)))
        return usage(r);
    enum gw_core_rc rc = gw_job_view_find(&r->ctx->core, word, details, job);
    if (rc == GW_CORE_INVALID)
        return usage(r);
    if (rc == GW_CORE_DB_ERROR)
        return db_failed(r);
    if (rc == GW_CORE_NOT_FOUND) {
        /* Another company's ref is exactly as unknown as one that does not exist. */
        say(&r->out, "Job ");
        say(&r->out, job->ref);
        say(&r->out, " not found.");
        r->ctx->core.err[0] = '\0'; /* an answer, not a failure: no last_error */
    }
    return GW_APPLY_DONE;
}

static enum gw_apply_rc find_job(struct run *r, const char **rest, struct gw_job_view *job)
{
    return find_job_view(r, rest, job, false);
}

static bool may_see(const struct caller *me, const struct gw_job_view *j)
{
    if (staff_role(me->role))
        return true;
    if (me->role == R_CONTRACTOR)
        return j->assignee_user_id == me->id;
    return me->role == R_CLIENT && j->client_id != 0 && j->client_id == me->client_id;
}

static const char *see_why(const struct caller *me)
{
    return me->role == R_CONTRACTOR ? "contractors see only the jobs assigned to them."
                                    : "clients see only their own jobs.";
}

static bool may_change(const struct caller *me, const struct gw_job_view *j)
{
    return staff_role(me->role) || (me->role == R_CONTRACTOR && j->assignee_user_id == me->id);
}

static const char *change_why(const struct caller *me)
{
    return me->role == R_CLIENT ? "clients cannot change jobs."
                                : "contractors change only the jobs assigned to them.";
}

static void link(struct run *r, const char *ref)
{
    const char *app = gw_slack_config_of(r->ctx->endpoint)->app_url;
    if (app == NULL || *app == '\0')
        return;
    size_t n = strlen(app);
    while (n > 0 && app[n - 1] == '/')
        n--;
    char url[600];
    snprintf(url, sizeof(url), "%.*s/jobs/%s", (int)(n > 500 ? 500 : n), app, ref);
    say(&r->out, " <");
    say_user(&r->out, url); /* operator text, but escaped all the same */
    say(&r->out, "|open>");
}

/* Free text from Slack: its entities decoded, blanks trimmed. */
static void plain(char *s)
{
    gw_slack_unescape(s);
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n'))
        s[--n] = '\0';
    size_t lead = strspn(s, " \t\n");
    memmove(s, s + lead, n - lead + 1);
}

static bool chars_within(const char *s, size_t max)
{
    size_t chars = 0;
    return gw_text_utf8_chars(s, strlen(s), &chars) && chars >= 1 && chars <= max;
}

/* A `/job new` between reading its words and creating its job. */
struct new_job {
    bool wanted; /* the job is to be created; otherwise the answer is said */
    char title[TEXT_MAX];
    struct gw_job_new job; /* points into title */
};

/* Reads `new TITLE [| DESCRIPTION]` into NJ: DONE with NJ->wanted set when the job is to be
 * created, DONE with the answer said (a refusal, the usage) when not. */
static enum gw_apply_rc new_read(struct run *r, const char *rest, struct new_job *nj)
{
    nj->wanted = false;
    if (r->me.role == R_CONTRACTOR)
        return refuse(r, "create jobs", NULL, "contractors work on the jobs assigned to them.");
    char *title = nj->title, *desc = NULL;
    snprintf(nj->title, sizeof(nj->title), "%s", rest);
    /* TITLE | DESCRIPTION: the first '|' outside Slack's <…> tokens (a link or a mention
     * carries one inside). */
    int depth = 0;
    for (char *p = title; *p; p++) {
        if (*p == '<')
            depth++;
        else if (*p == '>' && depth > 0)
            depth--;
        else if (*p == '|' && depth == 0) {
            *p = '\0';
            desc = p + 1;
            break;
        }
    }
    plain(title);
    if (desc != NULL)
        plain(desc);
    if (!chars_within(title, TITLE_CHARS))
        return usage(r);
    nj->job = (struct gw_job_new){
        .title = title,
        .description = desc && *desc ? desc : NULL,
        .client_id = r->me.role == R_CLIENT ? r->me.client_id : 0,
        .created_by_user_id = r->me.id,
    };
    nj->wanted = true;
    return GW_APPLY_DONE;
}

/* The answer to a `/job new` whose create ended with RC (REF the new job's). */
static enum gw_apply_rc new_answer(struct run *r, const struct new_job *nj, enum gw_core_rc rc,
                                   const char *ref)
{
    if (rc != GW_CORE_OK)
        return core_failed(r, rc);
    say(&r->out, "Created ");
    say(&r->out, ref);
    say(&r->out, ": ");
    say_user(&r->out, nj->job.title);
    link(r, ref);
    return GW_APPLY_DONE;
}

/* `/job new`: the job created here, or, with LATER, read into LATER for the caller to create
 * together with others (apply_many) and answer with new_answer. */
static enum gw_apply_rc cmd_new(struct run *r, const char *rest, struct new_job *later)
{
    struct new_job *nj = later;
    if (nj == NULL && (nj = malloc(sizeof(*nj))) == NULL) {
        snprintf(r->ctx->error, sizeof(r->ctx->error), "out of memory");
        return GW_APPLY_RETRY;
    }
    enum gw_apply_rc rc = new_read(r, rest, nj);
    if (rc == GW_APPLY_DONE && nj->wanted && later == NULL) {
        uint64_t id = 0;
        char ref[32];
        rc = new_answer(r, nj, gw_job_create(&r->ctx->core, &nj->job, &id, ref), ref);
    }
    if (later == NULL)
        free(nj);
    return rc;
}

/* Copies at most cap - 1 bytes of SRC, never ending inside a UTF-8 character. */
static void clip(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void say_comment(void *arg, const char *author, const char *body)
{
    struct run *r = arg;
    char clipped[301];
    clip(clipped, sizeof(clipped), body);
    say(&r->out, "\n> ");
    say_user(&r->out, author);
    say(&r->out, ": ");
    say_user(&r->out, clipped);
}

/* What `show` prints of a job the caller may see, up to its comments. */
static void say_job(struct run *r, const struct gw_job_view *jv)
{
    say(&r->out, "*");
    say(&r->out, jv->ref);
    say(&r->out, "* ");
    say_user(&r->out, jv->title);
    say(&r->out, "\nStatus: ");
    say(&r->out, jv->status);
    say(&r->out, " | Priority: ");
    say(&r->out, jv->priority);
    say(&r->out, " | Assignee: ");
    say_user(&r->out, jv->has_assignee_name ? jv->assignee_name : "unassigned");
    say(&r->out, "\nClient: ");
    say_user(&r->out, jv->has_client_name ? jv->client_name : "none");
    say(&r->out, " | Due: ");
    say(&r->out, jv->has_due_on ? jv->due_on : "none");
    say(&r->out, " | Billing: ");
    say(&r->out, jv->billing_status);
}

static enum gw_apply_rc cmd_show(struct run *r, const char *rest)
{
    struct gw_job_view j;
    enum gw_apply_rc ar = find_job_view(r, &rest, &j, true);
    if (ar != GW_APPLY_DONE || j.id == 0)
        return ar;
    if (!may_see(&r->me, &j))
        return refuse(r, "view", j.ref, see_why(&r->me));
    say_job(r, &j);
    if (gw_job_public_comments(&r->ctx->core, j.id, SHOW_COMMENTS, say_comment, r) != GW_CORE_OK)
        return db_failed(r);
    link(r, j.ref);
    return GW_APPLY_DONE;
}

struct listing {
    struct run *r;
    size_t n;
};

static void say_job_line(void *arg, const struct gw_job_line *line)
{
    struct listing *l = arg;
    char title[81];
    clip(title, sizeof(title), line->title ? line->title : "");
    if (l->n++ > 0)
        say(&l->r->out, "\n");
    say(&l->r->out, line->ref);
    say(&l->r->out, " [");
    say(&l->r->out, line->status);
    say(&l->r->out, "] ");
    say_user(&l->r->out, title);
    say(&l->r->out, " \xE2\x80\x94 ");
    say_user(&l->r->out, line->assignee_name ? line->assignee_name : "unassigned");
}

static enum gw_apply_rc cmd_list(struct run *r, const char *rest)
{
    char mode[16] = "open";
    if (*rest != '\0' &&
        (!gw_slack_next_word(&rest, mode, sizeof(mode)) || *rest != '\0' ||
         (strcmp(mode, "open") != 0 && strcmp(mode, "mine") != 0 && strcmp(mode, "all") != 0)))
        return usage(r);
    /* Contractors see the jobs assigned to them, clients their client's jobs. */
    struct gw_job_filter f = {0};
    if (r->me.role == R_CONTRACTOR) {
        f.flags |= GW_JOBS_ASSIGNED;
        f.assignee_user_id = r->me.id;
    } else if (r->me.role == R_CLIENT) {
        f.flags |= GW_JOBS_CLIENT;
        f.client_id = r->me.client_id;
    }
    if (strcmp(mode, "open") == 0) {
        f.flags |= GW_JOBS_OPEN;
    } else if (strcmp(mode, "mine") == 0) {
        f.flags |= GW_JOBS_MINE;
        f.user_id = r->me.id;
    }
    struct listing l = {.r = r};
    if (gw_job_list(&r->ctx->core, &f, LIST_MAX, say_job_line, &l) != GW_CORE_OK)
        return db_failed(r);
    if (l.n == 0)
        say(&r->out, "No jobs.");
    return GW_APPLY_DONE;
}

static enum gw_apply_rc cmd_comment(struct run *r, const char *rest)
{
    struct gw_job_view j;
    enum gw_apply_rc ar = find_job(r, &rest, &j);
    if (ar != GW_APPLY_DONE || j.id == 0)
        return ar;
    char text[TEXT_MAX];
    snprintf(text, sizeof(text), "%s", rest);
    plain(text);
    if (!chars_within(text, TEXT_MAX))
        return usage(r);
    if (!may_see(&r->me, &j))
        return refuse(r, "comment on", j.ref, see_why(&r->me));
    struct gw_comment_new cm = {
        .body = text,
        .visibility = r->me.role == R_CLIENT ? "public" : "internal",
        .author_user_id = r->me.id,
    };
    uint64_t id = 0;
    enum gw_core_rc rc = gw_job_comment(&r->ctx->core, j.id, &cm, &id);
    if (rc != GW_CORE_OK)
        return core_failed(r, rc);
    say(&r->out, r->me.role == R_CLIENT ? "Comment added to " : "Internal comment added to ");
    say(&r->out, j.ref);
    say(&r->out, ".");
    return GW_APPLY_DONE;
}

static bool status_ok(const char *s)
{
    static const char *const all[] = {"new", "open", "in_progress", "on_hold", "done", "closed"};
    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(all[i], s) == 0)
            return true;
    return false;
}

static enum gw_apply_rc cmd_status(struct run *r, const char *rest, const char *fixed)
{
    struct gw_job_view j;
    enum gw_apply_rc ar = find_job(r, &rest, &j);
    if (ar != GW_APPLY_DONE || j.id == 0)
        return ar;
    char status[16];
    if (fixed != NULL) {
        if (*rest != '\0')
            return usage(r);
        snprintf(status, sizeof(status), "%s", fixed);
    } else if (!gw_slack_next_word(&rest, status, sizeof(status)) || *rest != '\0' ||
               !status_ok(status)) {
        return usage(r);
    }
    if (!may_change(&r->me, &j))
        return refuse(r, "change the status of", j.ref, change_why(&r->me));
    enum gw_core_rc rc = gw_job_set_status(&r->ctx->core, j.id, status);
    if (rc != GW_CORE_OK)
        return core_failed(r, rc);
    say(&r->out, j.ref);
    say(&r->out, " is now ");
    say(&r->out, status);
    say(&r->out, ".");
    return GW_APPLY_DONE;
}

/* The linked user of this company with Slack id ID: 0 when none (an answer, not a failure:
 * nothing is left in the context's err for the event's last_error). -1 on database errors. */
static int user_by_slack_id(struct run *r, const char *id, struct gw_user *u)
{
    enum gw_core_rc rc = gw_user_find_by_slack_id(&r->ctx->core, id, u);
    if (rc == GW_CORE_DB_ERROR)
        return -1;
    if (rc != GW_CORE_OK) {
        memset(u, 0, sizeof(*u));
        r->ctx->core.err[0] = '\0';
    }
    return 0;
}

static enum gw_apply_rc cmd_assign(struct run *r, const char *rest)
{
    struct gw_job_view j;
    enum gw_apply_rc ar = find_job(r, &rest, &j);
    if (ar != GW_APPLY_DONE || j.id == 0)
        return ar;
    char who[300], slack_id[32];
    if (!gw_slack_next_word(&rest, who, sizeof(who)) || *rest != '\0')
        return usage(r);
    if (!staff_role(r->me.role))
        return refuse(r, "assign", j.ref, "only admins, managers and staff assign jobs.");
    uint64_t user_id = 0;
    if (strcmp(who, "me") == 0) {
        user_id = r->me.id;
    } else if (gw_slack_parse_mention(who, slack_id, sizeof(slack_id))) {
        struct gw_user named;
        if (user_by_slack_id(r, slack_id, &named) != 0)
            return db_failed(r);
        user_id = named.id;
    } else {
        gw_slack_unescape(who);
        /* Slack sends a typed address as <mailto:a@b|a@b>. */
        if (strncmp(who, "<mailto:", 8) == 0) {
            char *bar = strchr(who, '|');
            size_t n = bar ? (size_t)(bar - who - 8) : 0;
            memmove(who, who + 8, n);
            who[n] = '\0';
        }
        if (!gw_text_email_valid(who, strlen(who)))
            return usage(r);
        enum gw_core_rc rc = gw_user_find_by_email(&r->ctx->core, who, &user_id);
        if (rc == GW_CORE_DB_ERROR)
            return db_failed(r);
    }
    if (user_id == 0) {
        say(&r->out, "No linked CanTicket user ");
        say_user(&r->out, who);
        say(&r->out, " in this company.");
        return GW_APPLY_DONE;
    }
    enum gw_core_rc rc = gw_job_assign(&r->ctx->core, j.id, user_id);
    if (rc != GW_CORE_OK)
        return core_failed(r, rc);
    say(&r->out, j.ref);
    say(&r->out, " assigned.");
    return GW_APPLY_DONE;
}

static enum gw_apply_rc cmd_time(struct run *r, const char *rest)
{
    struct gw_job_view j;
    enum gw_apply_rc ar = find_job(r, &rest, &j);
    if (ar != GW_APPLY_DONE || j.id == 0)
        return ar;
    char dur[16], note[TEXT_MAX];
    if (!gw_slack_next_word(&rest, dur, sizeof(dur)))
        return usage(r);
    int minutes = gw_slack_parse_minutes(dur);
    snprintf(note, sizeof(note), "%s", rest);
    plain(note);
    if (minutes < 0 || (*note != '\0' && !chars_within(note, NOTE_CHARS)))
        return usage(r);
    if (r->me.role == R_CLIENT)
        return refuse(r, "log time on", j.ref, "clients do not log time.");
    if (!may_change(&r->me, &j))
        return refuse(r, "log time on", j.ref, change_why(&r->me));
    uint64_t id = 0;
    enum gw_core_rc rc = gw_time_add(&r->ctx->core, j.id, r->me.id, (unsigned)minutes,
                                     *note ? note : NULL, NULL, &id);
    if (rc != GW_CORE_OK)
        return core_failed(r, rc);
    char line[96];
    snprintf(line, sizeof(line), "Logged %dh%02dm on %s.", minutes / 60, minutes % 60, j.ref);
    say(&r->out, line);
    return GW_APPLY_DONE;
}

static enum role role_of(const char *s)
{
    for (size_t i = 0; i < sizeof(role_names) / sizeof(role_names[0]); i++)
        if (strcmp(role_names[i], s) == 0)
            return (enum role)i;
    return R_UNKNOWN;
}

/* Takes ME as the caller: false (with the answer said) when no CanTicket user is linked. */
static bool take_caller(struct run *r, const struct command *c, const struct gw_user *me)
{
    r->me.id = me->id;
    r->me.client_id = me->client_id;
    if (r->me.id == 0 || (r->me.role = role_of(me->role)) == R_UNKNOWN) {
        say(&r->out, "Your Slack account isn't linked to a CanTicket user yet. Ask an admin of "
                     "your company to add your Slack member ID (");
        say_user(&r->out, c->user_id);
        say(&r->out, ") to your CanTicket profile, then try again.");
        return false;
    }
    r->ctx->core.actor_user_id = r->me.id;
    return true;
}

/* Runs command C of the caller KNOWN (NULL: looked up here). A `new` with LATER is only read
 * into it (see cmd_new). */
static enum gw_apply_rc dispatch(struct run *r, const struct command *c, struct new_job *later,
                                 const struct gw_user *known)
{
    struct gw_user me;
    if (known != NULL)
        me = *known;
    else if (user_by_slack_id(r, c->user_id, &me) != 0)
        return db_failed(r);
    if (!take_caller(r, c, &me))
        return GW_APPLY_DONE;
    const char *rest = c->text;
    char verb[16];
    if (!gw_slack_next_word(&rest, verb, sizeof(verb)) || strcmp(verb, "help") == 0)
        return help(r);
    r->verb = verb;
    if (strcmp(verb, "new") == 0)
        return cmd_new(r, rest, later);
    if (strcmp(verb, "show") == 0)
        return cmd_show(r, rest);
    if (strcmp(verb, "list") == 0)
        return cmd_list(r, rest);
    if (strcmp(verb, "comment") == 0)
        return cmd_comment(r, rest);
    if (strcmp(verb, "status") == 0)
        return cmd_status(r, rest, NULL);
    if (strcmp(verb, "close") == 0)
        return cmd_status(r, rest, "closed");
    if (strcmp(verb, "reopen") == 0)
        return cmd_status(r, rest, "open");
    if (strcmp(verb, "assign") == 0)
        return cmd_assign(r, rest);
    if (strcmp(verb, "time") == 0)
        return cmd_time(r, rest);
    return help(r);
}

/* The stored result of an answered command: {"response_type","text","invoked_at"}, or NULL
 * when out of memory. */
static char *result_json(const struct run *r, long long invoked_at)
{
    cJSON *o = cJSON_CreateObject();
    char *json = NULL;
    if (o != NULL && cJSON_AddStringToObject(o, "response_type", "ephemeral") != NULL &&
        cJSON_AddStringToObject(o, "text", r->out.buf) != NULL &&
        cJSON_AddNumberToObject(o, "invoked_at", (double)invoked_at) != NULL)
        json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return json;
}

/* One command of apply or apply_many. */
struct applying {
    struct command c;
    struct run r;
    long long invoked_at;
    struct new_job nj;
};

/* Reads the stored command of CTX into A: DONE, or FAILED with the reason in ctx->error. */
static enum gw_apply_rc read_stored(struct gw_apply *ctx, struct applying *a)
{
    if (!read_command(ctx->body, ctx->body_len, &a->c)) {
        snprintf(ctx->error, sizeof(ctx->error), "stored command no longer parses");
        return GW_APPLY_FAILED;
    }
    /* When Slack invoked the command, for the 30-minute window of its response_url. */
    a->invoked_at = ctx->received_at > 0 ? (long long)ctx->received_at : (long long)time(NULL);
    a->r.ctx = ctx;
    a->r.me.slack_id = a->c.user_id;
    a->r.command = a->c.command;
    a->r.verb = "";
    return GW_APPLY_DONE;
}

/* Stores the answer of a command that ran (RC) as CTX's result. */
static enum gw_apply_rc finish_command(struct gw_apply *ctx, const struct applying *a,
                                       enum gw_apply_rc rc)
{
    if (rc != GW_APPLY_DONE)
        return rc;
    ctx->result = result_json(&a->r, a->invoked_at);
    if (ctx->result == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "out of memory");
        return GW_APPLY_RETRY;
    }
    return GW_APPLY_DONE;
}

static enum gw_apply_rc apply(struct gw_apply *ctx)
{
    struct applying *a = calloc(1, sizeof(*a));
    if (a == NULL) {
        snprintf(ctx->error, sizeof(ctx->error), "out of memory");
        return GW_APPLY_RETRY;
    }
    enum gw_apply_rc rc = read_stored(ctx, a);
    if (rc == GW_APPLY_DONE)
        rc = dispatch(&a->r, &a->c, NULL, NULL);
    rc = finish_command(ctx, a, rc);
    free(a);
    return rc;
}

/* Finds the callers of the commands of A that read (RC DONE) in one statement. Returns false
 * when the database failed: every command of the batch then answers RETRY. */
static bool find_callers(struct gw_apply *const *ctx, struct applying *a, size_t n,
                         const enum gw_apply_rc *rc, struct gw_user *me)
{
    struct gw_slack_caller q[GW_JOB_BATCH_MAX];
    size_t of[GW_JOB_BATCH_MAX], k = 0;
    for (size_t i = 0; i < n; i++)
        if (rc[i] == GW_APPLY_DONE) {
            q[k] = (struct gw_slack_caller){.ctx = &ctx[i]->core, .slack_id = a[i].c.user_id};
            of[k++] = i;
        }
    if (k > 0 && gw_users_find_by_slack_ids(q, k) == GW_CORE_DB_ERROR)
        return false;
    for (size_t j = 0; j < k; j++) {
        me[of[j]] = q[j].rc == GW_CORE_OK ? q[j].user : (struct gw_user){0};
        ctx[of[j]]->core.err[0] = '\0';
    }
    return true;
}

/* A worker's batch of commands: each runs as apply() would, except that their callers are
 * found in one statement and the jobs their `new` commands create are created together
 * (gw_job_create_many), so the company's job counter is locked for three statements of the
 * batch, not three of each command. */
static void apply_many(struct gw_apply *const *ctx, size_t n, enum gw_apply_rc *rc)
{
    struct applying *a = n <= GW_JOB_BATCH_MAX ? calloc(n, sizeof(*a)) : NULL;
    if (a == NULL) {
        for (size_t i = 0; i < n; i++)
            rc[i] = apply(ctx[i]);
        return;
    }
    struct gw_user me[GW_JOB_BATCH_MAX];
    for (size_t i = 0; i < n; i++)
        rc[i] = read_stored(ctx[i], &a[i]);
    if (!find_callers(ctx, a, n, rc, me)) {
        for (size_t i = 0; i < n; i++)
            rc[i] = rc[i] == GW_APPLY_DONE ? db_failed(&a[i].r) : rc[i];
        free(a);
        return;
    }
    struct gw_job_batch_item items[GW_JOB_BATCH_MAX];
    size_t of[GW_JOB_BATCH_MAX], k = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc[i] != GW_APPLY_DONE)
            continue;
        rc[i] = dispatch(&a[i].r, &a[i].c, &a[i].nj, &me[i]);
        if (rc[i] == GW_APPLY_DONE && a[i].nj.wanted) {
            items[k] = (struct gw_job_batch_item){.ctx = &ctx[i]->core, .job = &a[i].nj.job};
            of[k++] = i;
        }
    }
    if (k > 0)
        gw_job_create_many(items, k);
    for (size_t j = 0; j < k; j++)
        rc[of[j]] = new_answer(&a[of[j]].r, &a[of[j]].nj, items[j].rc, items[j].ref);
    for (size_t i = 0; i < n; i++)
        rc[i] = finish_command(ctx[i], &a[i], rc[i]);
    free(a);
}

/* ------------------------------------------------------------------ read */

#define READ_CHUNK 32 /* commands whose questions go in one statement */

/* One command of a batch between its question and its answer. */
struct read_one {
    struct command c;
    char verb[16];
    const char *rest; /* into c.text, after the verb */
    bool asked;       /* its question is in the statement */
};

/* Answers one command from its question's answers: DONE with the text in R->out, or
 * anything else to leave it to apply (a write, a refusal that is audited, a failure). */
static enum gw_apply_rc read_answer(struct run *r, struct read_one *o, struct gw_view_query *q)
{
    if (!take_caller(r, &o->c, &q->user))
        return GW_APPLY_DONE; /* not linked: the same words whatever the verb */
    r->verb = o->verb;
    if (o->verb[0] == '\0' || strcmp(o->verb, "help") == 0)
        return help(r);
    if (strcmp(o->verb, "list") == 0)
        return cmd_list(r, o->rest);
    /* Every other verb but show writes, or may (apply() also answers unknown verbs). */
    if (strcmp(o->verb, "show") != 0)
        return GW_APPLY_RETRY;
    /* show: what find_job_view and cmd_show decide, from the batch's answers. */
    if (q->ref[0] == '\0')
        return usage(r);
    if (q->job.id == 0) {
        say(&r->out, "Job ");
        say(&r->out, q->job.ref);
        say(&r->out, " not found.");
        return GW_APPLY_DONE;
    }
    if (!may_see(&r->me, &q->job))
        return GW_APPLY_RETRY; /* refused: apply writes the audit row */
    say_job(r, &q->job);
    for (size_t k = 0; k < q->n_comments; k++)
        say_comment(r, q->comment_author[k], q->comment_body[k]);
    link(r, q->job.ref);
    return GW_APPLY_DONE;
}

/* The question of event E: who asks, and for `show` the job. False when it is not one this
 * read answers at all (it does not parse: apply says why). */
static bool read_question(const struct gw_read *e, struct read_one *o, struct gw_view_query *q)
{
    memset(q, 0, sizeof(*q));
    o->asked = false;
    if (!read_command(e->body, e->body_len, &o->c) || is_ssl_check(&o->c) || e->company_id == 0)
        return false;
    o->rest = o->c.text;
    if (!gw_slack_next_word(&o->rest, o->verb, sizeof(o->verb)))
        o->verb[0] = '\0';
    q->company_id = e->company_id;
    q->slack_user_id = o->c.user_id;
    char word[40];
    const char *rest = o->rest;
    if (strcmp(o->verb, "show") == 0 && gw_slack_next_word(&rest, word, sizeof(word)) &&
        gw_job_ref_normalise(word, q->ref) != 0)
        q->ref[0] = '\0';
    o->asked = true;
    return true;
}

static bool read_chunk(struct gw_db *db, struct gw_read *ev, size_t n, struct read_one *one,
                       struct gw_view_query *q, struct run *r, char *err, size_t err_len)
{
    size_t asked = 0, at[READ_CHUNK];
    for (size_t i = 0; i < n; i++)
        if (read_question(&ev[i], &one[asked], &q[asked]))
            at[asked++] = i;
    if (asked == 0)
        return true;
    if (gw_job_views_read(db, q, asked, SHOW_COMMENTS, err, err_len) != GW_CORE_OK)
        return false;
    bool ok = true;
    for (size_t k = 0; k < asked && ok; k++) {
        struct gw_read *e = &ev[at[k]];
        struct gw_apply ctx = {
            .core = {.db = db, .company_id = e->company_id, .source = "slack"},
            .endpoint = e->endpoint,
            .received_at = e->received_at,
        };
        memset(r, 0, sizeof(*r));
        r->ctx = &ctx;
        r->me.slack_id = one[k].c.user_id;
        r->command = one[k].c.command;
        r->verb = "";
        enum gw_apply_rc rc = read_answer(r, &one[k], &q[k]);
        if (rc == GW_APPLY_DONE) {
            e->result = result_json(r, (long long)e->received_at);
        } else if (ctx.error[0] != '\0') {
            snprintf(err, err_len, "%s", ctx.error); /* a list that could not be read */
            ok = false;
        }
    }
    for (size_t k = 0; k < asked; k++)
        gw_view_query_clear(&q[k]);
    return ok;
}

static bool read_batch(struct gw_db *db, struct gw_read *ev, size_t n, char *err, size_t err_len)
{
    struct read_one *one = malloc(READ_CHUNK * sizeof(*one));
    struct gw_view_query *q = malloc(READ_CHUNK * sizeof(*q));
    struct run *r = malloc(sizeof(*r));
    bool ok = one != NULL && q != NULL && r != NULL;
    if (!ok)
        snprintf(err, err_len, "out of memory");
    for (size_t from = 0; ok && from < n; from += READ_CHUNK)
        ok = read_chunk(db, ev + from, n - from < READ_CHUNK ? n - from : READ_CHUNK, one, q, r,
                        err, err_len);
    free(one);
    free(q);
    free(r);
    if (!ok)
        for (size_t i = 0; i < n; i++) {
            free(ev[i].result);
            ev[i].result = NULL;
        }
    return ok;
}

/* The result of a command applied after its answer went out, posted to its response_url. */
/* The text to post for OUTCOME, and when the command was invoked (for Slack's 30 minute
 * window of a response_url); a malloc'd string or NULL. */
static char *late_text(enum gw_outcome outcome, const char *result, long long *invoked_at)
{
    *invoked_at = (long long)time(NULL);
    switch (outcome) {
    case GW_OUTCOME_APPLIED:
    case GW_OUTCOME_DUPLICATE:
        return result_text(result, invoked_at);
    case GW_OUTCOME_FAILED:
        return strdup(not_applied);
    case GW_OUTCOME_IGNORED:
        return strdup(unknown_workspace);
    case GW_OUTCOME_UNAVAILABLE:
        return strdup(not_saved);
    case GW_OUTCOME_ACCEPTED:
    case GW_OUTCOME_TIMEOUT:
        break;
    }
    return NULL;
}

static void deliver(const struct gw_endpoint_config *ep, const unsigned char *body, size_t body_len,
                    enum gw_outcome outcome, const char *result)
{
    struct command *c = malloc(sizeof(*c));
    long long at = 0;
    char *text = late_text(outcome, result, &at);
    char why[256] = "";
    if (c == NULL || text == NULL || !read_command(body, body_len, c)) {
        snprintf(why, sizeof(why), "nothing to deliver");
    } else if (!gw_slack_reply_url_allowed(c->response_url,
                                           gw_slack_config_of(ep)->response_url_hosts,
                                           gw_slack_config_of(ep)->n_response_url_hosts)) {
        snprintf(why, sizeof(why), "response_url not allowed");
    } else if (!gw_slack_reply_take(c->response_url, (time_t)at, time(NULL))) {
        snprintf(why, sizeof(why), "response_url used up or expired");
    } else {
        cJSON *o = cJSON_CreateObject();
        char *json = NULL;
        if (o != NULL && cJSON_AddStringToObject(o, "response_type", "ephemeral") != NULL &&
            cJSON_AddStringToObject(o, "text", text) != NULL &&
            cJSON_AddFalseToObject(o, "replace_original") != NULL)
            json = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (json == NULL)
            snprintf(why, sizeof(why), "out of memory");
        else if (gw_slack_reply_post(c->response_url, json, why, sizeof(why)) == 0)
            why[0] = '\0';
        free(json);
    }
    if (why[0] != '\0')
        gw_log_warn(NULL, "endpoint %s: delayed Slack reply not delivered: %s", ep ? ep->id : "?",
                    why);
    free(text);
    free(c);
}

static const char *const media_types[] = {"application/x-www-form-urlencoded", NULL};
static const char *const stored_headers[] = {"x-slack-request-timestamp", "user-agent", NULL};

static const struct gw_cfg_key endpoint_keys[] = {
    GW_KEY_SECRETS,
    GW_KEY_TOLERANCE,
    /* Slack waits 3 s; 1ms lets tests force the delayed path. */
    {.name = "reply_deadline",
     .type = GW_CFG_DURATION,
     .offset = offsetof(struct gw_endpoint_config, reply_deadline_ms),
     .min = 1,
     .max = 2900,
     .def = DEFAULT_DEADLINE_MS},
    {.name = NULL},
};

/* STRING_LIST keys find their count right after the pointer. */
_Static_assert(offsetof(struct gw_slack_config, n_commands) ==
                   offsetof(struct gw_slack_config, commands) + sizeof(char **),
               "n_commands must follow commands");
_Static_assert(offsetof(struct gw_slack_config, n_response_url_hosts) ==
                   offsetof(struct gw_slack_config, response_url_hosts) + sizeof(char **),
               "n_response_url_hosts must follow response_url_hosts");

#define CFG(field) offsetof(struct gw_slack_config, field)
static const struct gw_cfg_key config_keys[] = {
    {.name = "commands",
     .type = GW_CFG_STRING_LIST,
     .offset = CFG(commands),
     .min = 1,
     .max = 16,
     .def = 32},
    {.name = "app_url", .type = GW_CFG_STRING, .offset = CFG(app_url), .min = 8, .max = 255},
    {.name = "app_id", .type = GW_CFG_STRING, .offset = CFG(app_id), .min = 2, .max = 63},
    {.name = "response_url_hosts",
     .type = GW_CFG_STRING_LIST,
     .offset = CFG(response_url_hosts),
     .min = 1,
     .max = 16,
     .def = 253},
    {.name = NULL},
};

const struct gw_provider gw_provider_slack = {
    .name = "slack",
    .summary = "Slack slash commands (/job)",
    .endpoint_keys = endpoint_keys,
    .flags = GW_PROVIDER_SYNC | GW_PROVIDER_EARLY_ANSWER,
    /* Slack retries no slash command: a 503 would only show the user an error. */
    .unavailable = {.status = 200,
                    .body = "{\"response_type\":\"ephemeral\",\"text\":\"" NOT_SAVED "\"}"},
    .config_keys = config_keys,
    .config_size = sizeof(struct gw_slack_config),
    .media_types = media_types,
    .source = "slack",
    .stored_headers = stored_headers,
    .sync_deadline_ms = DEFAULT_DEADLINE_MS,
    .precheck = precheck,
    .verifier = &gw_verifier_slack,
    .envelope = envelope,
    .apply = apply,
    .apply_many = apply_many,
    .read = read_batch,
    .deliver = deliver,
    .answer = answer,
};
