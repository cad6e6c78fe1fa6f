/* mail_attach.c — attachments stored content-addressed in the core database: the bytes once
 * per (company, SHA-256) in attachment_blobs, one `attachments` row per file of a comment. */
#include "gateway/core/mail.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gateway/core/mail_ctx.h"

#define STORAGE_URI    "db:attachment_blobs"
#define CONTENT_ID_MAX 255

/* A Content-ID without its brackets into OUT when it is 1..255 visible ASCII characters
 * (it is only a reference from the HTML, so a bad one is dropped, never refused). */
static bool content_id(const char *in, char out[CONTENT_ID_MAX + 1])
{
    char norm[GW_MAIL_MESSAGE_ID_SIZE];
    if (in == NULL || gw_mail_message_id_normalise(in, norm) != 0)
        return false;
    size_t n = strlen(norm) - 2;
    memcpy(out, norm + 1, n);
    out[n] = '\0';
    return true;
}

/* The comment must be one of this job's: the foreign key only proves it is the company's. */
static enum gw_core_rc need_comment(struct gw_core_ctx *c, uint64_t job_id, uint64_t comment_id)
{
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(comment_id), GW_DB_INT(job_id)};
    struct gw_db_rows *rows = gw_db_query(
        c->db, "SELECT 1 FROM job_comments WHERE company_id = ? AND id = ? AND job_id = ?", p, 3,
        1);
    if (rows == NULL)
        return gw_core_db_fail(c, "finding the comment");
    bool found = gw_db_rows_count(rows) == 1;
    gw_db_rows_free(rows);
    if (!found)
        return gw_core_fail(c, GW_CORE_NOT_FOUND,
                            "comment %" PRIu64 " is not one of job %" PRIu64 " in this company",
                            comment_id, job_id);
    return GW_CORE_OK;
}

/* The row the comment already has for these bytes under this name, or 0. */
static enum gw_core_rc find_row(struct gw_core_ctx *c, uint64_t comment_id,
                                const struct gw_mail_attachment_row *out, uint64_t *id)
{
    *id = 0;
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_INT(comment_id),
                              GW_DB_BLOB(out->sha256, GW_SHA256_SIZE), GW_DB_TEXT(out->filename)};
    struct gw_db_rows *rows = gw_db_query(c->db,
                                          "SELECT id FROM attachments WHERE company_id = ? AND "
                                          "comment_id = ? AND sha256 = ? AND filename = ? "
                                          "ORDER BY id LIMIT 1",
                                          p, 4, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "looking for the attachment");
    if (gw_db_rows_count(rows) == 1)
        *id = (uint64_t)gw_db_rows_int(rows, 0, 0, 0);
    gw_db_rows_free(rows);
    return GW_CORE_OK;
}

/* Stores the bytes unless the company has them; *existed says which. Two workers storing
 * the same file meet on the primary key: the second waits, then updates nothing. */
static enum gw_core_rc store_bytes(struct gw_core_ctx *c, const struct gw_mail_file *a,
                                   const unsigned char sha[GW_SHA256_SIZE], bool *existed)
{
    struct gw_db_value k[] = {GW_DB_INT(c->company_id), GW_DB_BLOB(sha, GW_SHA256_SIZE)};
    struct gw_db_rows *rows = gw_db_query(
        c->db, "SELECT 1 FROM attachment_blobs WHERE company_id = ? AND sha256 = ?", k, 2, 1);
    if (rows == NULL)
        return gw_core_db_fail(c, "looking for the attachment's bytes");
    *existed = gw_db_rows_count(rows) == 1;
    gw_db_rows_free(rows);
    if (*existed)
        return GW_CORE_OK;
    struct gw_db_value p[] = {GW_DB_INT(c->company_id), GW_DB_BLOB(sha, GW_SHA256_SIZE),
                              GW_DB_INT(a->len), GW_DB_BLOB(a->len > 0 ? a->data : "", a->len)};
    int64_t n = gw_db_exec(c->db,
                           "INSERT INTO attachment_blobs (company_id, sha256, size, bytes) "
                           "VALUES (?, ?, ?, ?) ON DUPLICATE KEY UPDATE size = size",
                           p, 4);
    if (n < 0) {
        if (gw_db_errno(c->db) == GW_MAIL_ER_NO_REFERENCED_ROW)
            return gw_core_fail(c, GW_CORE_NOT_FOUND, "company %" PRIu64 " does not exist",
                                c->company_id);
        return gw_core_db_fail(c, "storing the attachment's bytes");
    }
    *existed = n == 0; /* stored meanwhile by another worker */
    return GW_CORE_OK;
}

enum gw_core_rc gw_mail_attachment_add(struct gw_core_ctx *c, uint64_t job_id, uint64_t comment_id,
                                       const struct gw_mail_file *a,
                                       struct gw_mail_attachment_row *out)
{
    enum gw_core_rc rc = gw_mail_ctx_check(c, true);
    if (rc != GW_CORE_OK)
        return rc;
    if (a == NULL || out == NULL || (a->data == NULL && a->len > 0))
        return gw_core_fail(c, GW_CORE_INVALID, "gw_mail_attachment_add: missing argument");
    memset(out, 0, sizeof(*out));
    if (a->len > GW_MAIL_ATTACHMENT_MAX)
        return gw_core_fail(c, GW_CORE_INVALID,
                            "the attachment has %zu bytes, more than the %u stored", a->len,
                            GW_MAIL_ATTACHMENT_MAX);
    gw_mail_filename_sanitise(a->filename, out->filename);
    gw_mail_content_type_sanitise(a->content_type, out->content_type);
    char cid[CONTENT_ID_MAX + 1];
    bool has_cid = content_id(a->content_id, cid);
    if (!gw_sha256(a->len > 0 ? a->data : NULL, a->len, out->sha256))
        return gw_core_fail(c, GW_CORE_DB_ERROR, "cannot compute SHA-256 (OpenSSL failed)");

    if (comment_id != 0) {
        uint64_t existing = 0;
        if ((rc = need_comment(c, job_id, comment_id)) != GW_CORE_OK ||
            (rc = find_row(c, comment_id, out, &existing)) != GW_CORE_OK)
            return rc;
        if (existing != 0) {
            out->id = existing;
            out->duplicate = true;
            out->bytes_existed = true;
            return GW_CORE_OK;
        }
    }
    if ((rc = store_bytes(c, a, out->sha256, &out->bytes_existed)) != GW_CORE_OK)
        return rc;
    struct gw_db_value p[] = {
        GW_DB_INT(c->company_id),
        GW_DB_INT(job_id),
        comment_id != 0 ? GW_DB_INT(comment_id) : GW_DB_NULL,
        GW_DB_TEXT(out->filename),
        GW_DB_TEXT(out->content_type),
        GW_DB_INT(a->len),
        GW_DB_BLOB(out->sha256, GW_SHA256_SIZE),
        GW_DB_TEXT(a->is_inline ? "inline" : "attachment"),
        has_cid ? GW_DB_TEXT(cid) : GW_DB_NULL,
    };
    if (gw_db_exec(c->db,
                   "INSERT INTO attachments (company_id, job_id, comment_id, filename, "
                   "content_type, size, sha256, disposition, content_id, storage_uri) VALUES "
                   "(?, ?, ?, ?, ?, ?, ?, ?, ?, '" STORAGE_URI "')",
                   p, sizeof(p) / sizeof(p[0])) < 0) {
        /* With the company and the comment checked, a missing parent is the job. */
        if (gw_db_errno(c->db) == GW_MAIL_ER_NO_REFERENCED_ROW)
            return gw_core_fail(c, GW_CORE_NOT_FOUND,
                                "job %" PRIu64 " does not exist in this company", job_id);
        return gw_core_db_fail(c, "adding the attachment");
    }
    out->id = gw_db_last_insert_id(c->db);
    if (out->id == 0)
        return gw_core_fail(c, GW_CORE_DB_ERROR, "the new attachment has no id");
    return GW_CORE_OK;
}
