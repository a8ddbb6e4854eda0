-- Endpoint health (the run of failures since the last success) and ordered delivery.
ALTER TABLE subscriptions
  ADD COLUMN ordering text NOT NULL DEFAULT 'concurrent' CHECK (ordering IN ('concurrent', 'strict')),
  ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
  ADD COLUMN failing_since bigint,
  ADD COLUMN last_success_at bigint;

-- Insertion order of deliveries: the head of a strictly ordered subscription's queue is
-- its unfinished delivery with the lowest seq.
ALTER TABLE deliveries ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY;
CREATE INDEX deliveries_open ON deliveries (subscription_id, seq)
  WHERE status IN ('pending', 'failed');
-- Retention: finished messages are found by age.
CREATE INDEX messages_created ON messages (created_at);
