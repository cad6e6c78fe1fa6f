/* mail.h — the core-table operations e-mail to ticket is made of, for the apply path of the
 * email adapters: which company a recipient address belongs to, which job a message
 * answers, who the sender is to that job, and the writes a message makes (contact, job,
 * comment, reopening, history, attachments, the per-sender count). Like jobs.h: every
 * function but the two routing ones is scoped by the context's company_id, runs on the
 * caller's open transaction and never commits; the writers need c->source "email".
 * Addresses compare case-insensitively (the columns' collation), Message-IDs are stored as
 * gw_mail_message_id_normalise writes them ("<left@right>", mail_text.h). */
#ifndef CTGW_MAIL_H
#define CTGW_MAIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "gateway/base/hash.h"
#include "gateway/core/jobs.h"
#include "gateway/core/mail_text.h"
#include "gateway/core/mail_thread.h"

/* ---- routing (mail_route.c): before the company is known, so not tenant-scoped --------- */

struct gw_mail_route {
    uint64_t company_id;
    uint64_t integration_id;
    bool wildcard; /* matched "*@domain", not the address itself */
};

/* The company an address receives mail for: the `integrations` row of provider "email"
 * whose external_id is the address, else "*@" and its domain; only an active row routes.
 * An exact row that is not active ends the search (an operator who disabled one address of
 * a domain meant it). GW_CORE_NOT_FOUND with a sentence in WHY (naming the address) when no
 * row routes it; GW_CORE_INVALID when ADDRESS is not an address; GW_CORE_DB_ERROR. */
enum gw_core_rc gw_mail_route(struct gw_db *db, const char *address, struct gw_mail_route *out,
                              char *why, size_t why_len);

/* The company whose thread id ID is (gw_mail_thread_parse), for a reply that no recipient
 * routes: ids carry no company, so the MAC is tried for each company with an active email
 * integration (an HMAC each; at most GW_MAIL_ROUTE_COMPANIES of them). GW_CORE_NOT_FOUND
 * when none (or, by an 80-bit collision, more than one) verifies. */
#define GW_MAIL_ROUTE_COMPANIES 100000
enum gw_core_rc gw_mail_route_thread(struct gw_db *db, const struct gw_mail_threading *t,
                                     const struct gw_mail_thread_id *id, uint64_t *company_id);

/* ---- the sender's hourly count (mail_rate.c) ------------------------------------------ */

struct gw_mail_rate {
    uint32_t messages; /* this one included */
    bool over;         /* messages > limit (never with limit 0) */
};

/* Counts one message from SENDER to the context's company in the UTC hour of AT (0: now)
 * and says whether that makes more than LIMIT (mail.max_per_sender_hour). The counter row
 * stays locked until the transaction ends: one sender's messages to one company apply one
 * at a time. A rollback takes the count back. */
enum gw_core_rc gw_mail_sender_count(struct gw_core_ctx *c, const char *sender, time_t at,
                                     uint32_t limit, struct gw_mail_rate *out);

/* ---- jobs, people and comments (mail_jobs.c) ------------------------------------------ */

struct gw_mail_job {
    uint64_t id;
    uint64_t contact_id, client_id; /* 0: none */
    char ref[32];                   /* "CT-000123" */
    char status[16];                /* new, open, in_progress, on_hold, done or closed */
};

/* The job of this company with this id or ref (any form gw_job_find accepts: INVALID when
 * it is none); GW_CORE_NOT_FOUND when there is none. */
enum gw_core_rc gw_mail_job_get(struct gw_core_ctx *c, uint64_t job_id, struct gw_mail_job *out);
enum gw_core_rc gw_mail_job_by_ref(struct gw_core_ctx *c, const char *ref, struct gw_mail_job *out);

/* The job whose comments hold this Message-ID (job_comments.email_message_id, any source:
 * the core application stores the ids of what it sends there too), the newest comment's job
 * when several do. GW_CORE_NOT_FOUND when none; GW_CORE_INVALID when MESSAGE_ID is not one. */
enum gw_core_rc gw_mail_job_by_message_id(struct gw_core_ctx *c, const char *message_id,
                                          struct gw_mail_job *out);

/* Who an address is to a job. party is the first that applies, in this order; the ids of
 * every one that applies are filled, so the caller may choose otherwise. */
enum gw_mail_party {
    GW_MAIL_STRANGER = 0, /* none of the below: the subject tag alone must not thread */
    GW_MAIL_CONTACT,      /* the job's contact (not deleted) has the address: public */
    GW_MAIL_CLIENT,       /* the job's client (not deleted) has the address: public */
    GW_MAIL_CLIENT_USER,  /* a user of role client acting for the job's client: public */
    GW_MAIL_STAFF,        /* a user of another role of the company: internal */
};
struct gw_mail_participant {
    enum gw_mail_party party;
    uint64_t contact_id; /* the job's contact when its address matches */
    uint64_t client_id;  /* the job's client when its address (or the client user's) matches */
    uint64_t user_id;    /* the matching user (not deleted): staff, or a user of the job's client */
    char role[16];       /* that user's role, "" when none */
};

/* Fills OUT for ADDRESS and the job: GW_CORE_OK whatever the party, GW_CORE_NOT_FOUND when
 * the job is not one of this company, GW_CORE_INVALID when ADDRESS is not an address. A
 * user of role client is a participant only of their own client's jobs. */
enum gw_core_rc gw_mail_participant(struct gw_core_ctx *c, uint64_t job_id, const char *address,
                                    struct gw_mail_participant *out);

struct gw_mail_contact {
    uint64_t id;         /* the live contact; 0 when the address is a deleted contact's */
    uint64_t client_id;  /* its client, 0: none */
    uint64_t deleted_id; /* the deleted contact that holds the address, 0 otherwise */
    bool created;
};

/* The contact of this company with ADDRESS, created when there is none; NAME (cleaned with
 * gw_mail_clean_line, at most 200 characters; NULL or blank: none) fills a contact's empty
 * name and never replaces one. A deleted contact is not brought back: deleting one may be
 * a person's request to be forgotten, which mail from them must not undo behind anyone's
 * back. That is GW_CORE_NOT_FOUND with out->deleted_id set, and the caller goes on without
 * a contact (an author label instead). Unlike gw_contact_upsert, which restores. */
enum gw_core_rc gw_mail_contact_upsert(struct gw_core_ctx *c, const char *address, const char *name,
                                       struct gw_mail_contact *out);

struct gw_mail_job_new {
    const char *subject; /* the title, through gw_mail_title: NULL or blank "(no subject)" */
    uint64_t contact_id; /* 0: none */
    uint64_t client_id;  /* 0: the contact's client, if it has one */
};

/* Opens a job (gw_job_create: status new, source email, the next ref, a "created" event)
 * for the contact and its client. OUT describes the new job. */
enum gw_core_rc gw_mail_job_open(struct gw_core_ctx *c, const struct gw_mail_job_new *n,
                                 struct gw_mail_job *out);

struct gw_mail_comment {
    const char *body;       /* blank: "(no text)"; past 16 MiB cut on a character boundary */
    const char *visibility; /* "public" or "internal" */
    uint64_t author_user_id, author_contact_id; /* 0: none */
    const char *author_label; /* when neither id is set: cleaned, at most 200 characters */
    const char *message_id;   /* required: the message's own Message-ID */
};

/* Adds the message as a comment of the job (gw_job_comment: source email, the context's
 * inbox event, a "commented" event) unless the job already has a comment with this
 * Message-ID: then *duplicate is true, *comment_id that comment's, and nothing is written,
 * so the same message delivered twice (or through two relays) is one comment. The job row
 * is locked first, so two workers with the same message wait for each other. */
enum gw_core_rc gw_mail_comment_add(struct gw_core_ctx *c, uint64_t job_id,
                                    const struct gw_mail_comment *m, uint64_t *comment_id,
                                    bool *duplicate);

/* A job that is done or closed goes back to open, closed_at cleared (gw_job_set_status:
 * a "status_changed" event from/to, source email). *reopened says whether it was. */
enum gw_core_rc gw_mail_job_reopen(struct gw_core_ctx *c, uint64_t job_id, bool *reopened);

struct gw_mail_event {
    uint64_t comment_id;          /* 0: none */
    const char *message_id;       /* normalised; NULL or not a Message-ID: left out */
    const char *from;             /* the sender's address; NULL or not an address: left out */
    bool automated;               /* auto-reply, bounce, list, our own loop: no auto-reply */
    const char *automated_reason; /* NULL, or 1..64 of a-z 0-9 _ - ("auto-submitted") */
    bool new_job, reopened, duplicate;
};

/* The job_events row every applied message writes, kind "email_received", detail
 * {"comment_id", "message_id", "from", "automated", "automated_reason", "new_job",
 * "reopened", "duplicate"}: what the core application reads to decide on an auto-reply,
 * which it never sends when "automated" is true. */
enum gw_core_rc gw_mail_job_event(struct gw_core_ctx *c, uint64_t job_id,
                                  const struct gw_mail_event *e);

/* ---- attachments (mail_attach.c) ------------------------------------------------------ */

/* The largest attachment stored: attachment_blobs.bytes is a LONGBLOB (4 GiB), but nothing
 * larger than the largest body an endpoint accepts (64 MiB) can have arrived, and the
 * database's max_allowed_packet must hold it. The per-file and per-message limits of the
 * config (mail.max_attachment, mail.max_attachments_total) are the caller's to apply. */
#define GW_MAIL_ATTACHMENT_MAX (64u * 1024u * 1024u)

struct gw_mail_file {
    const char *filename;     /* as the message names it; NULL: none */
    const char *content_type; /* as the part declares it; NULL: none */
    const void *data;         /* LEN bytes, decoded */
    size_t len;
    bool is_inline;         /* Content-Disposition inline (an image the HTML shows) */
    const char *content_id; /* its Content-ID, brackets optional; NULL or invalid: none */
};

struct gw_mail_attachment_row {
    uint64_t id;
    bool duplicate;     /* the comment had this file under this name already: nothing written */
    bool bytes_existed; /* the company had these bytes already: only the row was written */
    unsigned char sha256[GW_SHA256_SIZE];
    char filename[GW_MAIL_FILENAME_SIZE];         /* as stored (gw_mail_filename_sanitise) */
    char content_type[GW_MAIL_CONTENT_TYPE_SIZE]; /* as stored */
};

/* Stores the bytes once per (company, SHA-256) in attachment_blobs and an `attachments` row
 * (storage_uri "db:attachment_blobs") for the job and, when COMMENT_ID is not 0, that
 * comment of the job. GW_CORE_INVALID past GW_MAIL_ATTACHMENT_MAX; GW_CORE_NOT_FOUND when
 * the job, or the comment on that job, is not this company's. */
enum gw_core_rc gw_mail_attachment_add(struct gw_core_ctx *c, uint64_t job_id, uint64_t comment_id,
                                       const struct gw_mail_file *a,
                                       struct gw_mail_attachment_row *out);

#endif
