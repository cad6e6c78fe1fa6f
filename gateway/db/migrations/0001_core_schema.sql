-- 0001_core_schema.sql — the core schema of DESIGN.md: every table of the contract.
-- Every core table carries company_id with a foreign key to companies and an index that
-- leads with it. References between core tables are composite (company_id, id) foreign
-- keys, so a row can only ever point at a row of the same company.
-- Statements are separated by a line ending in ';' (the migrator splits on that).

CREATE TABLE IF NOT EXISTS companies (
  id          BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  slug        VARCHAR(64)  NOT NULL,
  name        VARCHAR(200) NOT NULL,
  created_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at  DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_companies_slug (slug),
  CONSTRAINT ck_companies_slug CHECK (slug REGEXP '^[a-z0-9][a-z0-9_-]{0,63}$')
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Per-company counter behind ticket refs: CT-000001, CT-000002, ... A job takes the next
-- number with INSERT ... VALUES (company, LAST_INSERT_ID(1)) ON DUPLICATE KEY UPDATE
-- last_number = LAST_INSERT_ID(last_number + 1) inside its transaction, which serialises
-- concurrent creators on this one row (gateway/jobs.c).
CREATE TABLE IF NOT EXISTS job_ref_counters (
  company_id   BIGINT UNSIGNED NOT NULL,
  last_number  BIGINT UNSIGNED NOT NULL DEFAULT 0,
  PRIMARY KEY (company_id),
  CONSTRAINT fk_job_ref_counters_company FOREIGN KEY (company_id) REFERENCES companies (id)
    ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS clients (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id       BIGINT UNSIGNED NOT NULL,
  name             VARCHAR(200) NOT NULL,
  email            VARCHAR(254) NULL,
  phone            VARCHAR(64)  NULL,
  xero_contact_id  VARCHAR(64)  NULL,
  ghl_contact_id   VARCHAR(64)  NULL,
  xero_updated_at  DATETIME(3)  NULL,
  created_at       DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at       DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  deleted_at       DATETIME(3)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_clients_company_id (company_id, id),
  UNIQUE KEY uq_clients_xero (company_id, xero_contact_id),
  UNIQUE KEY uq_clients_ghl (company_id, ghl_contact_id),
  KEY ix_clients_email (company_id, email),
  CONSTRAINT fk_clients_company FOREIGN KEY (company_id) REFERENCES companies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS users (
  id             BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id     BIGINT UNSIGNED NOT NULL,
  email          VARCHAR(254) NOT NULL,
  name           VARCHAR(200) NOT NULL,
  role           ENUM('admin','manager','staff','contractor','client') NOT NULL,
  slack_user_id  VARCHAR(32)  NULL,
  client_id      BIGINT UNSIGNED NULL,
  created_at     DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at     DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  deleted_at     DATETIME(3)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_users_company_id (company_id, id),
  UNIQUE KEY uq_users_email (company_id, email),
  UNIQUE KEY uq_users_slack (company_id, slack_user_id),
  KEY ix_users_client (company_id, client_id),
  CONSTRAINT fk_users_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT fk_users_client FOREIGN KEY (company_id, client_id) REFERENCES clients (company_id, id),
  -- a user of role client acts for exactly one client record of the company
  CONSTRAINT ck_users_client_role CHECK ((role = 'client') = (client_id IS NOT NULL))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS contacts (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id      BIGINT UNSIGNED NOT NULL,
  client_id       BIGINT UNSIGNED NULL,
  name            VARCHAR(200) NULL,
  email           VARCHAR(254) NULL,
  phone           VARCHAR(64)  NULL,
  ghl_contact_id  VARCHAR(64)  NULL,
  created_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at      DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  deleted_at      DATETIME(3)  NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_contacts_company_id (company_id, id),
  UNIQUE KEY uq_contacts_email (company_id, email),
  UNIQUE KEY uq_contacts_ghl (company_id, ghl_contact_id),
  KEY ix_contacts_client (company_id, client_id),
  CONSTRAINT fk_contacts_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT fk_contacts_client FOREIGN KEY (company_id, client_id) REFERENCES clients (company_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The inbox. company_id is NULL until the tenant is resolved (and stays NULL for events
-- whose tenant is unknown, stored as ignored).
CREATE TABLE IF NOT EXISTS webhook_events (
  id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  endpoint          VARCHAR(64)  NOT NULL,
  provider          VARCHAR(32)  NOT NULL,
  company_id        BIGINT UNSIGNED NULL,
  dedupe_key        VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  request_id        VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL,
  received_at       DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  status            ENUM('pending','processing','done','ignored','failed','dead') NOT NULL DEFAULT 'pending',
  attempts          INT UNSIGNED NOT NULL DEFAULT 0,
  next_attempt_at   DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  lease_owner       VARCHAR(96)  CHARACTER SET ascii COLLATE ascii_bin NULL,
  lease_expires_at  DATETIME(3)  NULL,
  last_error        VARCHAR(1000) NULL,
  processed_at      DATETIME(3)  NULL,
  source_address    VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL,
  content_type      VARCHAR(255) NULL,
  headers           JSON NULL,
  body              LONGBLOB NOT NULL,
  body_sha256       BINARY(32) NOT NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_webhook_events_dedupe (endpoint, dedupe_key),
  KEY ix_webhook_events_company (company_id, received_at),
  KEY ix_webhook_events_claim (status, next_attempt_at),
  KEY ix_webhook_events_lease (status, lease_expires_at),
  KEY ix_webhook_events_received (received_at),
  CONSTRAINT fk_webhook_events_company FOREIGN KEY (company_id) REFERENCES companies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS jobs (
  id                  BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id          BIGINT UNSIGNED NOT NULL,
  number              BIGINT UNSIGNED NOT NULL,
  -- CT- and at least six digits, derived from number so the two can never disagree
  ref                 VARCHAR(32) AS (CONCAT('CT-', IF(number < 1000000, LPAD(number, 6, '0'), number))) STORED,
  title               VARCHAR(300) NOT NULL,
  description         MEDIUMTEXT NULL,
  status              ENUM('new','open','in_progress','on_hold','done','closed') NOT NULL DEFAULT 'new',
  priority            ENUM('low','normal','high','urgent') NOT NULL DEFAULT 'normal',
  source              ENUM('email','slack','xero','crm','form','stripe','asana','api') NOT NULL,
  team                VARCHAR(100) NULL,
  client_id           BIGINT UNSIGNED NULL,
  contact_id          BIGINT UNSIGNED NULL,
  assignee_user_id    BIGINT UNSIGNED NULL,
  created_by_user_id  BIGINT UNSIGNED NULL,
  billing_status      ENUM('unbilled','invoiced','part_paid','paid','void') NOT NULL DEFAULT 'unbilled',
  due_at              DATETIME(3) NULL,
  created_at          DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at          DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  closed_at           DATETIME(3) NULL,
  PRIMARY KEY (id),
  UNIQUE KEY uq_jobs_company_id (company_id, id),
  UNIQUE KEY uq_jobs_number (company_id, number),
  UNIQUE KEY uq_jobs_ref (company_id, ref),
  KEY ix_jobs_status (company_id, status, created_at),
  KEY ix_jobs_assignee (company_id, assignee_user_id, status),
  KEY ix_jobs_client (company_id, client_id),
  KEY ix_jobs_contact (company_id, contact_id),
  KEY ix_jobs_creator (company_id, created_by_user_id),
  CONSTRAINT fk_jobs_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT fk_jobs_client FOREIGN KEY (company_id, client_id) REFERENCES clients (company_id, id),
  CONSTRAINT fk_jobs_contact FOREIGN KEY (company_id, contact_id) REFERENCES contacts (company_id, id),
  CONSTRAINT fk_jobs_assignee FOREIGN KEY (company_id, assignee_user_id) REFERENCES users (company_id, id),
  CONSTRAINT fk_jobs_creator FOREIGN KEY (company_id, created_by_user_id) REFERENCES users (company_id, id),
  CONSTRAINT ck_jobs_number CHECK (number >= 1)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS job_comments (
  id                 BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id         BIGINT UNSIGNED NOT NULL,
  job_id             BIGINT UNSIGNED NOT NULL,
  author_user_id     BIGINT UNSIGNED NULL,
  author_contact_id  BIGINT UNSIGNED NULL,
  author_label       VARCHAR(200) NULL,
  body               MEDIUMTEXT NOT NULL,
  source             ENUM('email','slack','xero','crm','form','stripe','asana','api','web','system') NOT NULL,
  visibility         ENUM('public','internal') NOT NULL DEFAULT 'internal',
  email_message_id   VARCHAR(255) NULL,
  webhook_event_id   BIGINT UNSIGNED NULL,
  created_at         DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_job_comments_company_id (company_id, id),
  KEY ix_job_comments_job (company_id, job_id, created_at),
  KEY ix_job_comments_message (company_id, email_message_id),
  KEY ix_job_comments_event (webhook_event_id),
  CONSTRAINT fk_job_comments_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT fk_job_comments_job FOREIGN KEY (company_id, job_id) REFERENCES jobs (company_id, id),
  CONSTRAINT fk_job_comments_user FOREIGN KEY (company_id, author_user_id) REFERENCES users (company_id, id),
  CONSTRAINT fk_job_comments_contact FOREIGN KEY (company_id, author_contact_id) REFERENCES contacts (company_id, id),
  CONSTRAINT fk_job_comments_event FOREIGN KEY (webhook_event_id) REFERENCES webhook_events (id)
    ON DELETE SET NULL,
  CONSTRAINT ck_job_comments_author CHECK (author_user_id IS NOT NULL OR author_contact_id IS NOT NULL
                                           OR author_label IS NOT NULL)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS job_events (
  id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id        BIGINT UNSIGNED NOT NULL,
  job_id            BIGINT UNSIGNED NOT NULL,
  kind              VARCHAR(40) NOT NULL,
  detail            JSON NULL,
  source            ENUM('email','slack','xero','crm','form','stripe','asana','api','web','system') NOT NULL,
  actor_user_id     BIGINT UNSIGNED NULL,
  webhook_event_id  BIGINT UNSIGNED NULL,
  created_at        DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY ix_job_events_job (company_id, job_id, id),
  KEY ix_job_events_event (webhook_event_id),
  CONSTRAINT fk_job_events_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT fk_job_events_job FOREIGN KEY (company_id, job_id) REFERENCES jobs (company_id, id),
  CONSTRAINT fk_job_events_actor FOREIGN KEY (company_id, actor_user_id) REFERENCES users (company_id, id),
  CONSTRAINT fk_job_events_event FOREIGN KEY (webhook_event_id) REFERENCES webhook_events (id)
    ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS time_entries (
  id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id        BIGINT UNSIGNED NOT NULL,
  job_id            BIGINT UNSIGNED NOT NULL,
  user_id           BIGINT UNSIGNED NOT NULL,
  minutes           INT UNSIGNED NOT NULL,
  note              VARCHAR(2000) NULL,
  spent_on          DATE NOT NULL,
  source            ENUM('email','slack','xero','crm','form','stripe','asana','api','web','system') NOT NULL,
  webhook_event_id  BIGINT UNSIGNED NULL,
  created_at        DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY ix_time_entries_job (company_id, job_id, spent_on),
  KEY ix_time_entries_user (company_id, user_id, spent_on),
  KEY ix_time_entries_event (webhook_event_id),
  CONSTRAINT fk_time_entries_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT fk_time_entries_job FOREIGN KEY (company_id, job_id) REFERENCES jobs (company_id, id),
  CONSTRAINT fk_time_entries_user FOREIGN KEY (company_id, user_id) REFERENCES users (company_id, id),
  CONSTRAINT fk_time_entries_event FOREIGN KEY (webhook_event_id) REFERENCES webhook_events (id)
    ON DELETE SET NULL,
  CONSTRAINT ck_time_entries_minutes CHECK (minutes BETWEEN 1 AND 1440)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS invoices (
  id               BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id       BIGINT UNSIGNED NOT NULL,
  xero_invoice_id  VARCHAR(64)  NOT NULL,
  number           VARCHAR(64)  NULL,
  reference        VARCHAR(255) NULL,
  type             VARCHAR(16)  NOT NULL,
  status           VARCHAR(16)  NOT NULL,
  currency         CHAR(3)      NULL,
  total            DECIMAL(18,4) NULL,
  amount_due       DECIMAL(18,4) NULL,
  amount_paid      DECIMAL(18,4) NULL,
  due_date         DATE NULL,
  client_id        BIGINT UNSIGNED NULL,
  job_id           BIGINT UNSIGNED NULL,
  xero_updated_at  DATETIME(3) NULL,
  created_at       DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at       DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_invoices_company_id (company_id, id),
  UNIQUE KEY uq_invoices_xero (company_id, xero_invoice_id),
  KEY ix_invoices_job (company_id, job_id),
  KEY ix_invoices_client (company_id, client_id),
  CONSTRAINT fk_invoices_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT fk_invoices_client FOREIGN KEY (company_id, client_id) REFERENCES clients (company_id, id),
  CONSTRAINT fk_invoices_job FOREIGN KEY (company_id, job_id) REFERENCES jobs (company_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS attachments (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id    BIGINT UNSIGNED NOT NULL,
  job_id        BIGINT UNSIGNED NOT NULL,
  comment_id    BIGINT UNSIGNED NULL,
  filename      VARCHAR(255) NOT NULL,
  content_type  VARCHAR(255) NOT NULL,
  size          BIGINT UNSIGNED NOT NULL,
  sha256        BINARY(32) NOT NULL,
  storage_uri   VARCHAR(1024) NOT NULL,
  created_at    DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY ix_attachments_job (company_id, job_id),
  KEY ix_attachments_comment (company_id, comment_id),
  KEY ix_attachments_sha (company_id, sha256),
  CONSTRAINT fk_attachments_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT fk_attachments_job FOREIGN KEY (company_id, job_id) REFERENCES jobs (company_id, id),
  CONSTRAINT fk_attachments_comment FOREIGN KEY (company_id, comment_id) REFERENCES job_comments (company_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One row per connected account of a provider. Credentials are stored only as AES-256-GCM
-- ciphertext tagged with the id of the key that sealed them.
CREATE TABLE IF NOT EXISTS integrations (
  id                      BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id              BIGINT UNSIGNED NOT NULL,
  provider                VARCHAR(32)  NOT NULL,
  external_id             VARCHAR(255) NOT NULL,
  status                  ENUM('active','disabled','disconnected') NOT NULL DEFAULT 'active',
  settings                JSON NULL,
  credentials_ciphertext  VARBINARY(8192) NULL,
  credentials_key_id      VARCHAR(64)  NULL,
  credentials_updated_at  DATETIME(3)  NULL,
  created_at              DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at              DATETIME(3)  NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_integrations_external (provider, external_id),
  KEY ix_integrations_company (company_id, provider),
  CONSTRAINT fk_integrations_company FOREIGN KEY (company_id) REFERENCES companies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Security-relevant facts. Never a request body.
CREATE TABLE IF NOT EXISTS audit_log (
  id              BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id      BIGINT UNSIGNED NULL,
  occurred_at     DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  kind            VARCHAR(64)  NOT NULL,
  endpoint        VARCHAR(64)  NULL,
  reason          VARCHAR(255) NULL,
  actor           VARCHAR(255) NULL,
  source_address  VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL,
  request_id      VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NULL,
  detail          JSON NULL,
  PRIMARY KEY (id),
  KEY ix_audit_log_company (company_id, occurred_at),
  KEY ix_audit_log_kind (kind, occurred_at),
  KEY ix_audit_log_occurred (occurred_at),
  CONSTRAINT fk_audit_log_company FOREIGN KEY (company_id) REFERENCES companies (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
