-- 0002_inbox_ingest.sql — what the ingest writers and workers need beyond the contract
-- columns of webhook_events: the writer batch that inserted a row (to tell new rows from
-- duplicates in one round trip), the adapter's result (given again to a repeated delivery),
-- and the index the workers' lease reclaim uses.

ALTER TABLE webhook_events
  ADD COLUMN ingest_batch BIGINT UNSIGNED NULL AFTER request_id,
  ADD COLUMN result JSON NULL AFTER last_error,
  ADD KEY ix_webhook_events_batch (ingest_batch);
