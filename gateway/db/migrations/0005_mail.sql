-- 0005_mail.sql — what e-mail to ticket needs beyond the contract tables: attachment bytes
-- stored once per company and content (every ctgw instance reads them from here, none keeps
-- files of its own), what an attachment row adds for mail, and the per-sender hourly counter
-- behind mail.max_per_sender_hour.
-- The lookups mail makes already have their indexes in 0001: integrations by (provider,
-- external_id), contacts and users by (company_id, email), clients by (company_id, email),
-- job_comments by (company_id, email_message_id), attachments by (company_id, comment_id).

-- The bytes of attachments, content-addressed: the same file sent twice to a company is one
-- row. Rows are never updated (the key is the content); size is the length of bytes, kept
-- so that listings need not read the blob. An `attachments` row whose storage_uri is
-- 'db:attachment_blobs' finds its bytes here by its own (company_id, sha256).
CREATE TABLE IF NOT EXISTS attachment_blobs (
  company_id  BIGINT UNSIGNED NOT NULL,
  sha256      BINARY(32) NOT NULL,
  size        BIGINT UNSIGNED NOT NULL,
  bytes       LONGBLOB NOT NULL,
  created_at  DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (company_id, sha256),
  CONSTRAINT fk_attachment_blobs_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT ck_attachment_blobs_size CHECK (size = LENGTH(bytes))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- An inline part (an image the HTML shows) is an attachment too; content_id is its
-- Content-ID without the angle brackets, which the text refers to as cid:….
ALTER TABLE attachments
  ADD COLUMN disposition ENUM('attachment','inline') NOT NULL DEFAULT 'attachment' AFTER sha256,
  ADD COLUMN content_id VARCHAR(255) NULL AFTER disposition;

-- Messages counted per company, sender address and UTC hour; a row older than two hours is
-- never read again and may be deleted by anyone. The address compares case-insensitively
-- through the collation, as every e-mail column does.
CREATE TABLE IF NOT EXISTS mail_sender_hours (
  company_id  BIGINT UNSIGNED NOT NULL,
  sender      VARCHAR(254) NOT NULL,
  hour        DATETIME NOT NULL,
  messages    INT UNSIGNED NOT NULL,
  PRIMARY KEY (company_id, sender, hour),
  KEY ix_mail_sender_hours_hour (hour),
  CONSTRAINT fk_mail_sender_hours_company FOREIGN KEY (company_id) REFERENCES companies (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
