-- Claims take a few due deliveries from each subscription, so that one subscription's
-- backlog never fills a claim: each subscription's due work, in due order.
CREATE INDEX hookline_deliveries_open_due ON hookline_deliveries (subscription_id, next_attempt_at)
  WHERE status IN ('pending', 'failed');
