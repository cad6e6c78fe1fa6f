-- 0006_ghl.sql — what GoHighLevel CRM to jobs needs beyond the contract tables: which job a
-- CRM object (an opportunity, an appointment) became, with the CRM state last applied so
-- that later changes can be told apart; how recent the stored copy of a CRM contact is, so
-- that an older update changes nothing; and notes kept on a contact that has no open job.

-- One CRM object is one job at most: the unique key (company_id, kind, external_id) is what
-- keeps a re-delivered or replayed "won" from opening a second job. state is the CRM's own
-- fields as last applied (JSON object); source_updated_ms orders out-of-order deliveries.
CREATE TABLE IF NOT EXISTS job_links (
  id                 BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id         BIGINT UNSIGNED NOT NULL,
  kind               VARCHAR(32)  NOT NULL,
  external_id        VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  job_id             BIGINT UNSIGNED NOT NULL,
  state              JSON NULL,
  source_updated_ms  BIGINT NOT NULL DEFAULT 0,
  created_at         DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  updated_at         DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  UNIQUE KEY uq_job_links_external (company_id, kind, external_id),
  KEY ix_job_links_job (company_id, job_id),
  CONSTRAINT fk_job_links_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT fk_job_links_job FOREIGN KEY (company_id, job_id) REFERENCES jobs (company_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The CRM's dateUpdated (or delivery timestamp) of the copy stored, in ms since the epoch.
ALTER TABLE contacts
  ADD COLUMN ghl_updated_ms BIGINT NOT NULL DEFAULT 0 AFTER ghl_contact_id;

-- A CRM note or task about a contact with no open job: kept here, never lost.
CREATE TABLE IF NOT EXISTS contact_notes (
  id                BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
  company_id        BIGINT UNSIGNED NOT NULL,
  contact_id        BIGINT UNSIGNED NOT NULL,
  body              MEDIUMTEXT NOT NULL,
  source            ENUM('email','slack','xero','crm','form','stripe','asana','api','web','system') NOT NULL,
  external_id       VARCHAR(64) NULL,
  webhook_event_id  BIGINT UNSIGNED NULL,
  created_at        DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (id),
  KEY ix_contact_notes_contact (company_id, contact_id, created_at),
  CONSTRAINT fk_contact_notes_company FOREIGN KEY (company_id) REFERENCES companies (id),
  CONSTRAINT fk_contact_notes_contact FOREIGN KEY (company_id, contact_id) REFERENCES contacts (company_id, id),
  CONSTRAINT fk_contact_notes_event FOREIGN KEY (webhook_event_id) REFERENCES webhook_events (id)
    ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
