/* parts.h — the MIME tree of a parsed message walked once: the body text (which parts, in
 * which order, converted how), the attachments, and what a delivery report quotes. */
#ifndef CTGW_MAIL_PARTS_H
#define CTGW_MAIL_PARTS_H

#include <stdbool.h>
#include <stddef.h>

#include <gmime/gmime.h>

#include "adapters/mail/parse.h"
#include "adapters/mail/text.h"

struct gw_mail_walk {
    const struct gw_mail_limits *lim; /* no zero fields */
    GMimeParserOptions *options;
    struct gw_mail_buf text; /* the body, clean, at most lim->max_text_bytes */
    bool from_html;
    struct gw_mail_attachment *att;
    size_t att_count;
    size_t att_cap;
    size_t leaves; /* leaf parts met */
    size_t unnamed;
    bool parts_cut;
    bool depth_cut;
    bool text_cut;
    bool failed; /* out of memory */
    bool is_dsn;
    char *dsn_message_id; /* NULL until found */
};

void gw_mail_walk_init(struct gw_mail_walk *w, const struct gw_mail_limits *lim,
                       GMimeParserOptions *options);

/* Walks the tree under root (the message's top-level part; NULL is an empty body). False when
 * memory ran out. */
bool gw_mail_walk_run(struct gw_mail_walk *w, GMimeObject *root);

/* Adds the walk's cuts to notes. */
void gw_mail_walk_notes(const struct gw_mail_walk *w, struct gw_mail_buf *notes);

/* Frees what the walk still owns (what was not moved into a struct gw_mail). */
void gw_mail_walk_free(struct gw_mail_walk *w);

/* Frees one attachment's strings and bytes. */
void gw_mail_attachment_clear(struct gw_mail_attachment *a);

#endif
