/* inbox.h — the one INSERT of webhook_events rows (the inbox), shared by the ingest writers'
 * group commits and `ctgw mail-pipe`, so that an event is stored the same way whichever way
 * it came in. Runs on the caller's connection and transaction; never commits. */
#ifndef CTGW_INBOX_H
#define CTGW_INBOX_H

#include <stddef.h>
#include <stdint.h>

#include "gateway/db/db.h"

/* One event to store. Strings are NUL-terminated; NULL stores SQL NULL where a column allows
 * it (request_id, last_error, source_address, content_type, headers, result). */
struct gw_inbox_row {
    const char *endpoint;
    const char *provider;
    uint64_t company_id; /* 0: NULL, no company (yet) */
    const char *dedupe_key;
    const char *request_id;
    uint64_t batch;     /* ingest_batch: tells rows of this statement from earlier ones */
    const char *status; /* pending, ignored or done */
    const char *last_error;
    const char *source_address;
    const char *content_type;
    const char *headers; /* JSON object text */
    const unsigned char *body;
    size_t body_len;
    const unsigned char *body_sha256; /* 32 bytes */
    unsigned defer_s;                 /* next_attempt_at this many seconds from now */
    const char *result;               /* with status done: the result; counts one attempt */
};

/* The row counts one statement may carry, largest first: a few statement shapes keep the
 * prepared-statement cache warm whatever the batch size. */
#define GW_INBOX_INSERT_SIZES                                                                      \
    {                                                                                              \
        64, 16, 4, 1                                                                               \
    }

/* Inserts ROWS[0..K), K one of GW_INBOX_INSERT_SIZES, in one statement. A row whose
 * (endpoint, dedupe_key) is stored already leaves the stored row as it is. Returns the rows
 * inserted (a repeated key counts 0), or -1 (gw_db_error says why). */
int64_t gw_inbox_insert(struct gw_db *db, const struct gw_inbox_row *rows, size_t k);

/* The same statement, answering for each row its stored event: columns id, ingest_batch,
 * endpoint, dedupe_key, result, one row per row of ROWS (a repeated key answers the stored
 * event's), in no promised order. NULL on error. */
struct gw_db_rows *gw_inbox_insert_returning(struct gw_db *db, const struct gw_inbox_row *rows,
                                             size_t k);

/* Gives event EVENT_ID, stored without a company, the company its apply found (e-mail routes
 * by recipient): before the apply writes rows that name the event, since those point at the
 * event of their own company. An event that has a company keeps it. 0, or -1. */
int gw_inbox_set_company(struct gw_db *db, uint64_t event_id, uint64_t company_id);

#endif
