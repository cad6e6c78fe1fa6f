/* parse.c — Xero's date forms, amounts, GUIDs and job refs in free text. */
#include "adapters/xero/parse.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gateway/core/jobs.h"

#define MS_MAX 253402300799999LL /* 9999-12-31T23:59:59.999Z */

static bool digits(const char *s, size_t n, int64_t *out)
{
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* "/Date(1552435200000+0000)/": the offset only says how Xero displayed it; the number is
 * UTC milliseconds already. */
static int64_t wcf_date_ms(const char *s)
{
    static const char head[] = "/Date(";
    if (strncmp(s, head, sizeof(head) - 1) != 0)
        return -1;
    const char *p = s + sizeof(head) - 1;
    bool neg = *p == '-';
    if (neg)
        p++;
    size_t n = strspn(p, "0123456789");
    int64_t ms = 0;
    if (n == 0 || n > 15 || !digits(p, n, &ms))
        return -1;
    p += n;
    if (*p == '+' || *p == '-') {
        size_t z = strspn(p + 1, "0123456789");
        if (z != 4)
            return -1;
        p += 5;
    }
    if (strcmp(p, ")/") != 0 || neg || ms > MS_MAX)
        return -1;
    return ms;
}

static int64_t iso_date_ms(const char *s)
{
    /* YYYY-MM-DD, then optionally THH:MM:SS, .f{1,7}, Z */
    int64_t y, mo, d, h = 0, mi = 0, se = 0, frac_ms = 0;
    size_t len = strlen(s);
    if (len < 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
        !digits(s + 8, 2, &d))
        return -1;
    const char *p = s + 10;
    if (*p == 'T') {
        if (strlen(p) < 9 || p[3] != ':' || p[6] != ':' || !digits(p + 1, 2, &h) ||
            !digits(p + 4, 2, &mi) || !digits(p + 7, 2, &se))
            return -1;
        p += 9;
        if (*p == '.') {
            size_t n = strspn(p + 1, "0123456789");
            if (n == 0 || n > 7)
                return -1;
            int64_t f = 0;
            digits(p + 1, n < 3 ? n : 3, &f);
            for (size_t k = n; k < 3; k++)
                f *= 10;
            frac_ms = f;
            p += 1 + n;
        }
        if (*p == 'Z')
            p++;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60 ||
        y < 1970)
        return -1;
    struct tm tm = {.tm_year = (int)(y - 1900),
                    .tm_mon = (int)(mo - 1),
                    .tm_mday = (int)d,
                    .tm_hour = (int)h,
                    .tm_min = (int)mi,
                    .tm_sec = (int)se};
    time_t t = timegm(&tm);
    struct tm back;
    /* timegm normalises 2019-02-30 into March: a date that does not come back is invalid. */
    if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL || back.tm_mday != (int)d ||
        back.tm_mon != (int)(mo - 1))
        return -1;
    return (int64_t)t * 1000 + frac_ms;
}

int64_t gw_xero_date_ms(const char *s)
{
    if (s == NULL || strlen(s) > 64)
        return -1;
    return s[0] == '/' ? wcf_date_ms(s) : iso_date_ms(s);
}

bool gw_xero_date_ymd(const char *s, char out[11])
{
    int64_t ms = gw_xero_date_ms(s);
    if (ms < 0)
        return false;
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return false;
    return strftime(out, 11, "%Y-%m-%d", &tm) == 10;
}

bool gw_xero_amount(const cJSON *obj, const char *key, char out[32])
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) >= 1e14)
        return false;
    /* Xero sends amounts with at most 4 decimals (unitdp=4); a double holds every such value
     * below 1e11 exactly enough for %.4f to give it back. */
    int n = snprintf(out, 32, "%.4f", v->valuedouble);
    return n > 0 && n < 32;
}

bool gw_xero_find_ref(const char *text, char out[32])
{
    if (text == NULL)
        return false;
    size_t len = strnlen(text, 65536);
    for (size_t i = 0; i + 9 <= len; i++) {
        if (i > 0 && isalnum((unsigned char)text[i - 1]))
            continue;
        if (toupper((unsigned char)text[i]) != 'C' || toupper((unsigned char)text[i + 1]) != 'T' ||
            text[i + 2] != '-')
            continue;
        size_t n = strspn(text + i + 3, "0123456789");
        if (n < 6 || n > 18 || isalnum((unsigned char)text[i + 3 + n]))
            continue;
        char word[32];
        snprintf(word, sizeof(word), "%.*s", (int)(3 + n), text + i);
        if (gw_job_ref_normalise(word, out) == 0)
            return true;
    }
    return false;
}
