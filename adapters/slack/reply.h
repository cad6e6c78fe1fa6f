/* reply.h — posting delayed replies to a slash command's response_url: only to allowed
 * hosts, over https (http for loopback only), with timeouts, retries with backoff, and at
 * most as often (5 times) and as late (30 minutes) as Slack accepts. */
#ifndef CTGW_SLACK_REPLY_H
#define CTGW_SLACK_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define GW_SLACK_REPLY_MAX_POSTS 5
#define GW_SLACK_REPLY_WINDOW_S  (30 * 60)

/* True when URL may receive a reply: https to a host in HOSTS (exact, case-insensitive; the
 * default hooks.slack.com when N_HOSTS is 0), or http to such a host that is a loopback
 * address (127.0.0.0/8, ::1), for tests. No user info, default or explicit port. */
bool gw_slack_reply_url_allowed(const char *url, char *const *hosts, size_t n_hosts);

/* Takes one of the GW_SLACK_REPLY_MAX_POSTS posts a response_url allows within its window
 * (which starts at INVOKED_AT); false when none is left or the window has passed. Bounded
 * in memory; thread-safe. */
bool gw_slack_reply_take(const char *url, time_t invoked_at, time_t now);

/* POSTs JSON to URL (already allowed): 3 s to connect, 10 s in all per try, up to 3 tries
 * with 250 ms, 1 s backoff on network errors and 5xx; no redirects. 0 on a 2xx; -1 otherwise
 * with a reason in WHY. Blocks: worker threads only. */
int gw_slack_reply_post(const char *url, const char *json, char *why, size_t why_len);

#endif
