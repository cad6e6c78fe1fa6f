-- 0004_fewer_inbox_indexes.sql — every stored event and every state change of it updates
-- each index of webhook_events, and the database's work per event bounds ingest speed.
-- A claimed event's next_attempt_at now holds its lease expiry, so the claim index
-- (status, next_attempt_at) also finds expired leases; retention can walk the primary key
-- (ids grow with time) or (company_id, received_at).

ALTER TABLE webhook_events
  DROP KEY ix_webhook_events_lease,
  DROP KEY ix_webhook_events_received;
