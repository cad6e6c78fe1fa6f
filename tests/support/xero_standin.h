/* xero_standin.h — a stand-in for Xero's Accounting API and identity server on 127.0.0.1, for
 * tests: serves JSON resources put by the test, issues and rotates OAuth2 tokens the way Xero
 * does (30-minute grace for the previous refresh token), and fails on demand (401, 429 with
 * Retry-After, 5xx, invalid_grant, an answer held back after the token has rotated).
 *
 * Point ctgw at it with api_base http://127.0.0.1:PORT/api.xro/2.0 and token_url
 * http://127.0.0.1:PORT/connect/token. Every request is answered with Connection: close. */
#ifndef CTGW_TESTS_SUPPORT_XERO_STANDIN_H
#define CTGW_TESTS_SUPPORT_XERO_STANDIN_H

#include <stdbool.h>
#include <stdint.h>

struct ts_xero;

/* Listens on 127.0.0.1, a free port, served by its own threads. Fails the test (cmocka
 * fail_msg) if it cannot. */
struct ts_xero *ts_xero_start(void);
uint16_t ts_xero_port(const struct ts_xero *x);
/* Stops accepting, drops held answers, joins every thread (within about a second) and frees.
 * NULL is fine. */
void ts_xero_stop(struct ts_xero *x);

/* Resources: GET {path} answers 200 with this JSON (Content-Type: application/json). The path
 * is matched as requested without its query string, case-insensitively (Xero's routing is),
 * e.g. "/api.xro/2.0/Invoices/a03ffcd2-…". Replaces an earlier one. Unknown paths under
 * /api.xro/2.0 answer 404 with a Xero-like JSON error; GET /connections answers "[]" until a
 * resource is put at "/connections". */
void ts_xero_put(struct ts_xero *x, const char *path, const char *json);

/* The next `count` requests whose path starts with prefix get this answer instead (e.g. 401,
 * 429 with extra_headers "Retry-After: 2\r\nX-Rate-Limit-Problem: minute\r\n", 500, 503),
 * before any other check. extra_headers may be NULL; each line ends in \r\n. Rules are tried
 * in the order they were added; a rule whose count is used up is gone. */
void ts_xero_fail_next(struct ts_xero *x, const char *prefix, int status, const char *extra_headers,
                       int count);

/* OAuth2 identity: the app's client id/secret (checked as HTTP Basic auth on the token
 * endpoint) and the one valid refresh token to begin with. Forgets earlier tokens: no access
 * token is valid until the first refresh. */
void ts_xero_oauth(struct ts_xero *x, const char *client_id, const char *client_secret,
                   const char *refresh_token);
/* Adds another, independent token chain (another authorization, e.g. a second tenant's)
 * starting from this refresh token; at most 4 chains. The token endpoint finds the chain a
 * refresh token belongs to; the API accepts the newest access token of any chain. The
 * current/previous getters below speak of the first chain. */
void ts_xero_oauth_add(struct ts_xero *x, const char *refresh_token);
/* From now on the token endpoint answers 400 {"error":"invalid_grant"} to every refresh. */
void ts_xero_invalid_grant(struct ts_xero *x, bool on);
/* Hold mode: a refresh is performed server-side (the token rotates) but the answer is not
 * sent until ts_xero_release(), hold mode is turned off, or the client disconnects (then it
 * is dropped) — a client that dies between Xero rotating the token and storing it. A held
 * answer not released within 30 s is dropped and the connection closed. */
void ts_xero_hold_tokens(struct ts_xero *x, bool on);
/* Sends every answer held so far (hold mode stays as it is). */
void ts_xero_release(struct ts_xero *x);
/* Counts of requests received whose path starts with prefix (all methods, any answer), and of
 * token refreshes that succeeded server-side (held answers included). */
int ts_xero_count(struct ts_xero *x, const char *prefix);
int ts_xero_refreshes(struct ts_xero *x);
/* The refresh token a client must now use (the newest issued), and the previous one (NULL
 * when there is none); its grace window may have ended. Caller frees. */
char *ts_xero_current_refresh_token(struct ts_xero *x);
char *ts_xero_previous_refresh_token(struct ts_xero *x);
/* How long the previous refresh token stays usable after a rotation (default 30 minutes,
 * Xero's); tests shorten it to see it end. */
void ts_xero_set_grace_ms(struct ts_xero *x, long ms);

#endif
