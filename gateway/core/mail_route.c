/* mail_route.c — which company a message is for: its recipient address through
 * `integrations` (provider email), or, for a reply to a thread id no address routes, the one
 * company whose key the id's MAC verifies under. */
#include "gateway/core/mail.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gateway/base/text.h"

#define ADDRESS_MAX 254 /* RFC 5321 */

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ADDRESS without white space around or one pair of angle brackets, into OUT; false when
 * what is left is not an address. */
static bool bare_address(const char *address, char out[ADDRESS_MAX + 1])
{
    const char *s = address;
    size_t n = strnlen(address, 4 * ADDRESS_MAX);
    while (n > 0 && is_space(*s)) {
        s++;
        n--;
    }
    while (n > 0 && is_space(s[n - 1]))
        n--;
    if (n >= 2 && s[0] == '<' && s[n - 1] == '>') {
        s++;
        n -= 2;
    }
    if (n == 0 || n > ADDRESS_MAX || !gw_text_email_valid(s, n))
        return false;
    memcpy(out, s, n);
    out[n] = '\0';
    return true;
}

enum gw_core_rc gw_mail_route(struct gw_db *db, const char *address, struct gw_mail_route *out,
                              char *why, size_t why_len)
{
    char addr[ADDRESS_MAX + 1];
    char wild[ADDRESS_MAX + 3];
    if (why != NULL && why_len > 0)
        why[0] = '\0';
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (db == NULL || address == NULL || out == NULL || why == NULL)
        return GW_CORE_INVALID;
    if (!bare_address(address, addr)) {
        snprintf(why, why_len, "the recipient is not an e-mail address");
        return GW_CORE_INVALID;
    }
    /* The domain in lower case reads better in the message; the lookup would match any. */
    const char *at = strrchr(addr, '@');
    size_t w = 0;
    wild[w++] = '*';
    for (const char *p = at; *p != '\0'; p++)
        wild[w++] = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
    wild[w] = '\0';

    struct gw_db_value p[] = {GW_DB_TEXT(addr), GW_DB_TEXT(addr), GW_DB_TEXT(wild)};
    struct gw_db_rows *rows =
        gw_db_query(db,
                    "SELECT id, company_id, status, external_id = ? FROM integrations WHERE "
                    "provider = 'email' AND external_id IN (?, ?) ORDER BY external_id LIKE "
                    "'*@%' ",
                    p, 3, 2);
    if (rows == NULL) {
        snprintf(why, why_len, "looking up the recipient: %s", gw_db_error(db));
        return GW_CORE_DB_ERROR;
    }
    enum gw_core_rc rc = GW_CORE_NOT_FOUND;
    if (gw_db_rows_count(rows) == 0) {
        snprintf(why, why_len, "no email integration for '%s' or '%s'", addr, wild);
    } else {
        /* Row 0 is the exact address when there is one (ORDER BY puts it first). */
        const char *status = gw_db_rows_text(rows, 0, 2, NULL);
        bool exact = gw_db_rows_int(rows, 0, 3, 0) == 1;
        if (status == NULL || strcmp(status, "active") != 0) {
            snprintf(why, why_len, "the email integration for '%s' is %s", exact ? addr : wild,
                     status != NULL ? status : "unknown");
        } else {
            out->integration_id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
            out->company_id = (uint64_t)gw_db_rows_int(rows, 0, 1, 0);
            out->wildcard = !exact;
            rc = out->company_id != 0 ? GW_CORE_OK : GW_CORE_NOT_FOUND;
        }
    }
    gw_db_rows_free(rows);
    return rc;
}

enum gw_core_rc gw_mail_route_thread(struct gw_db *db, const struct gw_mail_threading *t,
                                     const struct gw_mail_thread_id *id, uint64_t *company_id)
{
    if (company_id != NULL)
        *company_id = 0;
    if (db == NULL || t == NULL || id == NULL || company_id == NULL || id->ref[0] == '\0')
        return GW_CORE_INVALID;
    struct gw_db_rows *rows = gw_db_query(db,
                                          "SELECT DISTINCT company_id FROM integrations WHERE "
                                          "provider = 'email' AND status = 'active' ORDER BY "
                                          "company_id",
                                          NULL, 0, GW_MAIL_ROUTE_COMPANIES);
    if (rows == NULL)
        return GW_CORE_DB_ERROR;
    uint64_t found = 0;
    size_t matches = 0;
    /* Every candidate is tried, so the time taken says nothing about which one matched. */
    for (size_t r = 0; r < gw_db_rows_count(rows); r++) {
        uint64_t company = (uint64_t)gw_db_rows_int(rows, r, 0, 0);
        if (company != 0 && gw_mail_thread_verify(t, company, id)) {
            found = company;
            matches++;
        }
    }
    gw_db_rows_free(rows);
    if (matches != 1)
        return GW_CORE_NOT_FOUND;
    *company_id = found;
    return GW_CORE_OK;
}
