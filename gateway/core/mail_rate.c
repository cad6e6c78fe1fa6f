/* mail_rate.c — messages counted per company, sender and UTC hour (mail_sender_hours), for
 * mail.max_per_sender_hour: a loop with another system's auto-responder, or a flood, stops
 * opening jobs after the limit instead of after the disk is full. */
#include "gateway/core/mail.h"

#include <stdio.h>
#include <string.h>

#include "gateway/base/text.h"
#include "gateway/core/mail_ctx.h"

#define SENDER_MAX 254

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

enum gw_core_rc gw_mail_sender_count(struct gw_core_ctx *c, const char *sender, time_t at,
                                     uint32_t limit, struct gw_mail_rate *out)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, false);
    if (rc != GW_CORE_OK)
        return rc;
    if (sender == NULL || out == NULL)
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_sender_count: missing argument");
    memset(out, 0, sizeof(*out));
    const char *s = sender;
    size_t n = strnlen(sender, 4 * SENDER_MAX);
    while (n > 0 && is_space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n == 0 || n > SENDER_MAX || !gw_text_email_valid(s, n))
        return gw_core_fail(c, GW_CORE_INVALID, "the sender is not an e-mail address");

    if (at == 0)
        at = time(NULL);
    struct tm tm;
    char hour[32];
    if (gmtime_r(&at, &tm) == NULL || strftime(hour, sizeof(hour), "%Y-%m-%d %H:00:00", &tm) == 0 ||
        tm.tm_year + 1900 < 1000 || tm.tm_year + 1900 > 9999)
        return gw_core_fail(c, GW_CORE_INVALID, "the time of the message is out of range");

    /* LAST_INSERT_ID(expr) hands the new count back with the statement (as the job counter
     * does, jobs.c), and the upsert locks the row until the transaction ends. */
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_TEXTN(s, n), GW_DB_TEXT(hour)};
    if (gw_db_exec(c->db,
                   "INSERT INTO mail_sender_hours (company_id, sender, hour, messages) VALUES "
                   "(?, ?, ?, LAST_INSERT_ID(1)) ON DUPLICATE KEY UPDATE messages = "
                   "LAST_INSERT_ID(messages + 1)",
                   p, 3) < 0) {
        if (gw_db_errno(c->db) == GW_MAIL_ER_NO_REFERENCED_ROW)
            return gw_core_fail(c, GW_CORE_NOT_FOUND, "company does not exist");
        return gw_core_db_fail(c, "counting the sender's messages");
    }
    uint64_t count = gw_db_last_insert_id(c->db);
    if (count == 0)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "the sender count returned no number");
    out->messages = count > UINT32_MAX ? UINT32_MAX : (uint32_t)count;
    out->over = limit != 0 && count > limit;
    return GW_CORE_OK;
}
