/* parse.h — one e-mail message (RFC 5322 bytes, MIME read by GMime 3) as the fields a ticket
 * needs: sender, recipients, subject, threading ids, the markers of automated mail, delivery
 * reports, the body as plain UTF-8 text with the new part of a reply apart, and attachments.
 *
 * Everything in a struct gw_mail is owned by it and freed by gw_mail_free. Every string is
 * NUL-terminated, valid UTF-8 that utf8mb4 stores (no NUL, no control characters; one-line
 * fields have none at all, texts keep "\n" and tab), never NULL ("" when absent), and bounded
 * by the GW_MAIL_*_MAX below or the limits. The parser holds no state between calls and may
 * run on several threads at once. */
#ifndef CTGW_MAIL_PARSE_H
#define CTGW_MAIL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Defaults of struct gw_mail_limits (a field left 0 takes its default). */
#define GW_MAIL_DEFAULT_MAX_MESSAGE_BYTES (25u * 1024u * 1024u)
#define GW_MAIL_DEFAULT_MAX_PARTS         100u
#define GW_MAIL_DEFAULT_MAX_DEPTH         10u
#define GW_MAIL_DEFAULT_MAX_HEADER_BYTES  (256u * 1024u)
#define GW_MAIL_DEFAULT_MAX_TEXT_BYTES    (1024u * 1024u)

/* Bounds of the single fields, in bytes. */
#define GW_MAIL_SUBJECT_MAX         998  /* longer subjects are cut (and noted) */
#define GW_MAIL_NAME_MAX            256  /* display names, cut */
#define GW_MAIL_ADDRESS_MAX         254  /* longer addresses are left out */
#define GW_MAIL_ID_MAX              255  /* longer message ids are left out (and noted) */
#define GW_MAIL_VALUE_MAX           256  /* Auto-Submitted, Precedence, List-Id, ...: cut */
#define GW_MAIL_ATTACHMENT_NAME_MAX 1024 /* cut */
#define GW_MAIL_CONTENT_TYPE_MAX    255
#define GW_MAIL_RECIPIENTS_MAX      100 /* To and Cc each; the rest are dropped (and noted) */
#define GW_MAIL_REFERENCES_MAX      100 /* the most recent are kept (and the cut noted) */
#define GW_MAIL_NOTES_MAX           1024

/* Over a limit the parse still succeeds with what fits, and notes says what was cut. */
struct gw_mail_limits {
    size_t max_message_bytes; /* bytes read at all; the rest of a longer message is ignored */
    size_t max_parts;         /* MIME leaf parts (text, attachments, messages) read */
    size_t max_depth;         /* multiparts enclosing a part: deeper parts are dropped */
    size_t max_header_bytes;  /* of the message's header block: later fields are dropped */
    size_t max_text_bytes;    /* of text (and of reply_text, which is part of it) */
};

struct gw_mail_address {
    char *name;    /* the display name, RFC 2047 decoded; "" when none */
    char *address; /* as written (local@domain); "" when none */
};

struct gw_mail_attachment {
    /* The part's file name (Content-Disposition filename or Content-Type name, RFC 2231 and
     * RFC 2047 decoded), not sanitised: it may hold '/' or ".." — the storing side makes it a
     * safe name. A part that names none gets one: "attachment-N.<ext from its type>",
     * "invite.ics", and for a message/rfc822 part "<its subject>.eml" or "message.eml". */
    char *filename;
    bool named;          /* the name came from the message */
    char *content_type;  /* "type/subtype", lower case */
    char *content_id;    /* without <>; "" when none */
    bool is_inline;      /* Content-Disposition: inline, or an image of an HTML body (related) */
    unsigned char *data; /* the decoded bytes (a nested message: the message as it was sent) */
    size_t size;
};

struct gw_mail {
    struct gw_mail_address from; /* From, or Sender when From has no mailbox */
    bool from_known; /* from.address has the shape local@domain; false: "unknown sender" */
    struct gw_mail_address *to;
    size_t to_count;
    struct gw_mail_address *cc;
    size_t cc_count;

    char *subject; /* RFC 2047 decoded, white space runs as one space; "" when absent */
    int64_t date;  /* Unix seconds; 0 when absent or unreadable */

    /* Threading: message ids without <>. references in header order, oldest first. */
    char *message_id;
    char *in_reply_to; /* the first id of In-Reply-To */
    char **references;
    size_t references_count;

    /* The markers of automated mail, as written ("" when absent). */
    char *auto_submitted;
    char *precedence;
    char *x_autoreply;
    char *x_autorespond;
    char *x_auto_response_suppress;
    char *list_id;
    bool list_unsubscribe;    /* a List-Unsubscribe header is present */
    char *return_path;        /* the address inside <>; "" when absent or null */
    bool return_path_present; /* there is a Return-Path header */
    bool return_path_empty;   /* ... and it is the null path "<>" (a bounce) */
    char *x_canticket_loop;   /* the X-CanTicket-Loop value */

    /* A delivery status notification: multipart/report; report-type=delivery-status. */
    bool is_dsn;
    char *dsn_message_id; /* the Message-ID of the message it reports on, when it quotes one */

    /* The body: text/plain preferred, else HTML made plain text; every text part of the body
     * in order, a blank line between them. Charsets converted, format=flowed joined. */
    char *text;
    size_t text_len;
    bool text_from_html;
    /* The new text of a reply: text without what it quotes ("" when it is only a quote). */
    char *reply_text;
    size_t reply_text_len;

    /* Attachments and inline images, in message order. A nested message/rfc822 is one
     * attachment and is not read for text. */
    struct gw_mail_attachment *attachments;
    size_t attachment_count;

    char *notes; /* what a limit cut, "; "-separated, at most GW_MAIL_NOTES_MAX bytes */
    bool cut;    /* notes is not empty */
};

/* Parses raw[0..len). lim may be NULL (all defaults). On success returns 0 and sets *out (free
 * it with gw_mail_free). Fails (-1, *out NULL, a reason in err when errlen > 0) only on an empty
 * input, one GMime cannot read as a message at all, or when memory runs out; every other
 * defect — missing headers, broken MIME, wrong charsets, limits — gives a result. */
int gw_mail_parse(const unsigned char *raw, size_t len, const struct gw_mail_limits *lim,
                  struct gw_mail **out, char *err, size_t errlen);

void gw_mail_free(struct gw_mail *m);

/* Sets GMime up, once per process whatever the thread (gw_mail_parse calls it; so may a
 * caller that wants the cost paid at start-up). GMime is never shut down: its tables live as
 * long as the process. */
void gw_mail_init(void);

#endif
