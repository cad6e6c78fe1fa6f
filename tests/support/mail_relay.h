/* mail_relay.h — what the tests of the e-mail relays that POST forms (Mailgun, SendGrid)
 * share: a request body made from a relay fixture (tests/fixtures/email-*) with its
 * placeholders filled (text, or the bytes of a file), posted over loopback, and the check that
 * the message it carried ended as the same job and comment as that message through email-mime. */
#ifndef CTGW_TESTS_SUPPORT_MAIL_RELAY_H
#define CTGW_TESTS_SUPPORT_MAIL_RELAY_H

#include <stddef.h>

#include "tests/support/db.h"
#include "tests/support/proc.h"

/* The address the seeded company (slug acme) receives mail at. */
#define TS_RELAY_SUPPORT "support@acme.example"

/* Writes SRV's config for DB: workers, `mail:`, an email-mime endpoint "mail" (basic auth,
 * for the reference), then ENDPOINTS (YAML list items of the relay under test); and the
 * files of the mail key and that password. The caller writes its relay's own files, then
 * calls ts_relay_start. */
void ts_relay_prepare(struct ts_server *srv, struct ts_db *db, const char *endpoints);

/* Migrates DB, seeds company acme (routed by TS_RELAY_SUPPORT) and starts SRV. */
void ts_relay_start(struct ts_server *srv, struct ts_db *db);

/* tests/fixtures/email/NAME with its Message-ID <MID> (caller frees). */
char *ts_relay_message(const char *name, const char *mid);

/* MESSAGE through the email-mime endpoint for TS_RELAY_SUPPORT, applied: its event. */
unsigned long long ts_relay_through_mime(struct ts_db *db, const struct ts_server *srv,
                                         const char *message);

/* Bytes that may hold NUL bytes; p is NUL-terminated all the same. */
struct ts_bytes {
    char *p;
    size_t len;
};

/* tests/fixtures/NAME with each "@@KEY@@" of the NULL-terminated KEY, VALUE pairs replaced by
 * the text VALUE. Fails the test when the fixture cannot be read. */
struct ts_bytes ts_relay_fixture(const char *name, ...) __attribute__((sentinel));

/* Replaces every "@@KEY@@" of B by DATA[0..LEN). */
void ts_relay_splice(struct ts_bytes *b, const char *key, const void *data, size_t len);

/* The attachment of tests/fixtures/email/attachment.eml decoded: report.pdf, 2087 bytes. */
struct ts_bytes ts_relay_report_pdf(void);

void ts_bytes_free(struct ts_bytes *b);

struct ts_relay_sent {
    long status;
    unsigned long long event; /* the "id" of the answer, 0 when none */
    char body[256];           /* the start of the answer's body */
};

/* POSTs BODY to ENDPOINT of SRV with CONTENT_TYPE and the header lines of EXTRA (NULL-terminated,
 * may be NULL). Fails the test when no answer comes. */
struct ts_relay_sent ts_relay_post(const struct ts_server *srv, const char *endpoint,
                                   const char *content_type, const char *const *extra,
                                   const struct ts_bytes *body);

/* Waits until event ID is settled and fails the test unless it ended STATUS. */
void ts_relay_settled(struct ts_db *db, const struct ts_server *srv, unsigned long long id,
                      const char *status);

/* Checks that events MIME (a message through email-mime) and RELAY (the same message through
 * a relay, under another Message-ID) made the same job and comment: title, status, source,
 * contact, comment author, visibility and text, attachments' names, types and sizes, and
 * the same "by", "new_job" and "automated" in their results. */
void ts_relay_same_outcome(struct ts_db *db, const struct ts_server *srv, unsigned long long mime,
                           unsigned long long relay);

/* Starts DOWN: a second ctgw with SRV's config but its own ports and a database socket
 * nothing listens on, so that what it verifies cannot be stored. ts_server_stop_clean it;
 * its files live in SRV's directory. */
void ts_relay_start_db_down(const struct ts_server *srv, struct ts_server *down);

#endif
