-- 0003_drop_batch_index.sql — the writers no longer read rows back by ingest_batch (ids come
-- from the insert itself; a repeated key is looked up by the unique (endpoint, dedupe_key)),
-- so its index only cost a write per stored event.

ALTER TABLE webhook_events DROP KEY ix_webhook_events_batch;
