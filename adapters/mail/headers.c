/* headers.c — sender, recipients, subject, date, threading ids and the markers of automated
 * mail, read through GMime (RFC 2047 words and 8-bit text decoded by it) and bounded here. */
#include "adapters/mail/headers.h"

#include <stdlib.h>
#include <string.h>

static char *value(GMimeMessage *msg, const char *name, size_t max)
{
    return gw_mail_text_clean(g_mime_object_get_header(GMIME_OBJECT(msg), name), max, NULL);
}

char *gw_mail_clean_id(const char *id, bool *too_long)
{
    *too_long = false;
    bool cut = false;
    char *s = gw_mail_text_clean(id, GW_MAIL_ID_MAX + 2, &cut);
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *from = s;
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        from = s + 1;
        n -= 2;
    }
    if (cut || n > GW_MAIL_ID_MAX) {
        *too_long = true;
        n = 0;
    }
    memmove(s, from, n);
    s[n] = '\0';
    return s;
}

static bool plausible_address(const char *a)
{
    const char *at = strrchr(a, '@');
    return at != NULL && at != a && at[1] != '\0';
}

struct list {
    struct gw_mail_address *a;
    size_t n;
    size_t max;
    bool cut;
    bool failed;
};

static void add_mailbox(struct list *l, InternetAddress *ia)
{
    const char *addr = internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia));
    if (addr == NULL || addr[0] == '\0' || strlen(addr) > GW_MAIL_ADDRESS_MAX)
        return;
    if (l->n == l->max) {
        l->cut = true;
        return;
    }
    if (l->a == NULL) {
        l->a = calloc(l->max, sizeof(*l->a));
        if (l->a == NULL) {
            l->failed = true;
            return;
        }
    }
    struct gw_mail_address *x = &l->a[l->n];
    x->address = gw_mail_text_clean(addr, GW_MAIL_ADDRESS_MAX, NULL);
    x->name = gw_mail_text_clean(internet_address_get_name(ia), GW_MAIL_NAME_MAX, NULL);
    l->n++;
    if (x->address == NULL || x->name == NULL)
        l->failed = true;
}

/* Mailboxes of list, the members of its groups included (groups do not nest). */
static void add_list(struct list *l, InternetAddressList *list, int depth)
{
    int count = list != NULL ? internet_address_list_length(list) : 0;
    for (int i = 0; i < count && !l->failed; i++) {
        InternetAddress *ia = internet_address_list_get_address(list, i);
        if (INTERNET_ADDRESS_IS_MAILBOX(ia))
            add_mailbox(l, ia);
        else if (INTERNET_ADDRESS_IS_GROUP(ia) && depth == 0)
            add_list(l, internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), 1);
    }
}

static bool recipients(struct gw_mail_address **out, size_t *count, InternetAddressList *list,
                       const char *what, struct gw_mail_buf *notes)
{
    struct list l = {.max = GW_MAIL_RECIPIENTS_MAX};
    add_list(&l, list, 0);
    *out = l.a;
    *count = l.n;
    if (l.cut)
        gw_mail_note(notes, "%s recipients after the %dth were dropped", what,
                     GW_MAIL_RECIPIENTS_MAX);
    return !l.failed;
}

static bool sender(struct gw_mail *m, GMimeMessage *msg)
{
    struct list l = {.max = 1};
    add_list(&l, g_mime_message_get_from(msg), 0);
    if (l.n == 0 && !l.failed)
        add_list(&l, g_mime_message_get_sender(msg), 0);
    if (l.failed) {
        if (l.a != NULL) {
            free(l.a[0].address);
            free(l.a[0].name);
        }
        free(l.a);
        return false;
    }
    if (l.n == 1) {
        m->from = l.a[0];
        m->from_known = plausible_address(m->from.address);
    } else {
        m->from.name = calloc(1, 1);
        m->from.address = calloc(1, 1);
    }
    free(l.a);
    return m->from.name != NULL && m->from.address != NULL;
}

static bool ids(struct gw_mail *m, GMimeMessage *msg, GMimeParserOptions *opts,
                struct gw_mail_buf *notes)
{
    bool too_long;
    m->message_id = gw_mail_clean_id(g_mime_message_get_message_id(msg), &too_long);
    if (too_long)
        gw_mail_note(notes, "the Message-ID was longer than %d bytes and left out", GW_MAIL_ID_MAX);

    const char *irt = g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To");
    GMimeReferences *refs = irt != NULL ? g_mime_references_parse(opts, irt) : NULL;
    if (refs != NULL && g_mime_references_length(refs) > 0)
        m->in_reply_to = gw_mail_clean_id(g_mime_references_get_message_id(refs, 0), &too_long);
    else
        m->in_reply_to = gw_mail_clean_id(
            irt != NULL && strchr(irt, '@') != NULL && strpbrk(irt, " \t\r\n") == NULL ? irt : NULL,
            &too_long);
    if (refs != NULL)
        g_mime_references_free(refs);

    const char *rv = g_mime_object_get_header(GMIME_OBJECT(msg), "References");
    refs = rv != NULL ? g_mime_references_parse(opts, rv) : NULL;
    int count = refs != NULL ? g_mime_references_length(refs) : 0;
    int first = count > GW_MAIL_REFERENCES_MAX ? count - GW_MAIL_REFERENCES_MAX : 0;
    if (first > 0)
        gw_mail_note(notes, "the %d oldest References were dropped", first);
    bool ok = m->message_id != NULL && m->in_reply_to != NULL;
    if (count > first) {
        m->references = calloc((size_t)(count - first), sizeof(char *));
        ok = ok && m->references != NULL;
    }
    for (int i = first; i < count && ok; i++) {
        char *id = gw_mail_clean_id(g_mime_references_get_message_id(refs, i), &too_long);
        if (id == NULL)
            ok = false;
        else if (id[0] == '\0')
            free(id);
        else
            m->references[m->references_count++] = id;
    }
    if (refs != NULL)
        g_mime_references_free(refs);
    return ok;
}

static bool return_path(struct gw_mail *m, GMimeMessage *msg)
{
    const char *rp = g_mime_object_get_header(GMIME_OBJECT(msg), "Return-Path");
    m->return_path_present = rp != NULL;
    char *v = gw_mail_text_clean(rp, GW_MAIL_ADDRESS_MAX + 64, NULL);
    if (v == NULL)
        return false;
    char *from = v;
    size_t n = strlen(v);
    char *lt = strchr(v, '<');
    char *gt = lt != NULL ? strchr(lt, '>') : NULL;
    if (gt != NULL) {
        from = lt + 1;
        n = (size_t)(gt - from);
    }
    while (n > 0 && *from == ' ') {
        from++;
        n--;
    }
    while (n > 0 && from[n - 1] == ' ')
        n--;
    m->return_path_empty = m->return_path_present && n == 0;
    if (n > GW_MAIL_ADDRESS_MAX)
        n = 0;
    memmove(v, from, n);
    v[n] = '\0';
    m->return_path = v;
    return true;
}

bool gw_mail_read_headers(struct gw_mail *m, GMimeMessage *msg, GMimeParserOptions *opts,
                          struct gw_mail_buf *notes)
{
    if (!sender(m, msg))
        return false;
    if (!recipients(&m->to, &m->to_count, g_mime_message_get_to(msg), "To", notes) ||
        !recipients(&m->cc, &m->cc_count, g_mime_message_get_cc(msg), "Cc", notes))
        return false;

    bool cut = false;
    m->subject = gw_mail_text_clean(g_mime_message_get_subject(msg), GW_MAIL_SUBJECT_MAX, &cut);
    if (cut)
        gw_mail_note(notes, "the subject was cut to %d bytes", GW_MAIL_SUBJECT_MAX);

    GDateTime *date = g_mime_message_get_date(msg); /* owned by msg */
    gint64 t = date != NULL ? g_date_time_to_unix(date) : 0;
    m->date = t > 0 ? t : 0;

    if (!ids(m, msg, opts, notes) || !return_path(m, msg))
        return false;
    m->auto_submitted = value(msg, "Auto-Submitted", GW_MAIL_VALUE_MAX);
    m->precedence = value(msg, "Precedence", GW_MAIL_VALUE_MAX);
    m->x_autoreply = value(msg, "X-Autoreply", GW_MAIL_VALUE_MAX);
    m->x_autorespond = value(msg, "X-Autorespond", GW_MAIL_VALUE_MAX);
    m->x_auto_response_suppress = value(msg, "X-Auto-Response-Suppress", GW_MAIL_VALUE_MAX);
    m->list_id = value(msg, "List-Id", GW_MAIL_VALUE_MAX);
    m->list_unsubscribe = g_mime_object_get_header(GMIME_OBJECT(msg), "List-Unsubscribe") != NULL;
    m->x_canticket_loop = value(msg, "X-CanTicket-Loop", GW_MAIL_VALUE_MAX);
    return m->subject != NULL && m->auto_submitted != NULL && m->precedence != NULL &&
           m->x_autoreply != NULL && m->x_autorespond != NULL &&
           m->x_auto_response_suppress != NULL && m->list_id != NULL && m->x_canticket_loop != NULL;
}
