/* time.c — HighLevel's ISO-8601 times ("…Z" or with a "+hh:mm" offset) as milliseconds
 * since the epoch, and back as the UTC text the core's DATETIME columns take. Pure. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "adapters/ghl/ghl.h"
#include "adapters/xero/parse.h"

#define TIME_MAX 40

int64_t gw_ghl_time_ms(const char *s)
{
    size_t n = s != NULL ? strlen(s) : 0;
    if (n < 10 || n > TIME_MAX)
        return -1;
    /* An offset "+hh:mm" / "-hh:mm" after the time: read the local time, then shift it. */
    char local[TIME_MAX + 1];
    memcpy(local, s, n + 1);
    int64_t shift_ms = 0;
    if (n > 19 && (s[n - 6] == '+' || s[n - 6] == '-') && s[n - 3] == ':') {
        const char *o = s + n - 5;
        if (o[0] < '0' || o[0] > '2' || o[1] < '0' || o[1] > '9' || o[3] < '0' || o[3] > '5' ||
            o[4] < '0' || o[4] > '9')
            return -1;
        int64_t minutes =
            ((o[0] - '0') * 10 + (o[1] - '0')) * 60 + (o[3] - '0') * 10 + (o[4] - '0');
        if (minutes > 14 * 60)
            return -1;
        shift_ms = (s[n - 6] == '+' ? -1 : 1) * minutes * 60000;
        local[n - 6] = '\0';
    }
    int64_t ms = gw_xero_date_ms(local); /* the ISO reader Xero's dates already use */
    if (ms < 0 || (ms + shift_ms) < 0)
        return -1;
    return ms + shift_ms;
}

void gw_ghl_time_utc(int64_t ms, char out[20])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        out[0] = '\0';
}
