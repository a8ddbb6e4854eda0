-- Claims take a few due deliveries from each subscription, so that one subscription's
-- backlog never fills a claim: each subscription's due work, in due order.
CREATE INDEX deliveries_open_due ON deliveries (subscription_id, next_attempt_at, seq)
  WHERE status IN ('pending', 'failed');
