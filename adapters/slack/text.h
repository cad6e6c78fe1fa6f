/* text.h — pure text helpers of the Slack provider: escaping for Slack's mrkdwn, the
 * words of a /job command line, user mentions and time durations as users type them. */
#ifndef CTGW_SLACK_TEXT_H
#define CTGW_SLACK_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Appends S escaped for Slack (& -> &amp;, < -> &lt;, > -> &gt;, nothing else) to OUT, which
 * holds CAP bytes and already LEN (*len updated, always NUL-terminated). Cuts at a UTF-8
 * character boundary when full and returns false then. */
bool gw_slack_escape_append(char *out, size_t cap, size_t *len, const char *s);

/* Appends S as is (text we wrote ourselves), with the same bounds as above. */
bool gw_slack_append(char *out, size_t cap, size_t *len, const char *s);

/* Decodes the three entities Slack escapes in text it sends (&lt; &gt; then &amp; last) in
 * place. */
void gw_slack_unescape(char *s);

/* Splits off the first word of *S (words are separated by spaces or tabs): copies it into
 * WORD (at most CAP - 1 bytes; false when longer or when there is none) and advances *S past
 * it and the blanks after it. */
bool gw_slack_next_word(const char **s, char *word, size_t cap);

/* Minutes of a duration typed as 90m, 1h30m, 1.5h, 2h (one decimal at most on hours); -1 when
 * malformed or outside 1 minute .. 24 hours. */
int gw_slack_parse_minutes(const char *s);

/* The Slack user id of a mention <@U123> or <@U123|name> into ID (at most CAP - 1 bytes of
 * [A-Z0-9]); false when S is not exactly one such mention. */
bool gw_slack_parse_mention(const char *s, char *id, size_t cap);

#endif
