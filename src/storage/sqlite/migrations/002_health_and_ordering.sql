-- Endpoint health (the run of failures since the last success) and ordered delivery.
ALTER TABLE hookline_subscriptions ADD COLUMN ordering TEXT NOT NULL DEFAULT 'concurrent'
  CHECK (ordering IN ('concurrent', 'strict'));
ALTER TABLE hookline_subscriptions ADD COLUMN consecutive_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hookline_subscriptions ADD COLUMN failing_since INTEGER;
ALTER TABLE hookline_subscriptions ADD COLUMN last_success_at INTEGER;

-- The head of a strictly ordered subscription's queue: its oldest unfinished delivery
-- (rowid order is insertion order).
CREATE INDEX hookline_deliveries_open ON hookline_deliveries (subscription_id)
  WHERE status IN ('pending', 'failed');
-- Retention: finished messages are found by age.
CREATE INDEX hookline_messages_created ON hookline_messages (created_at);
