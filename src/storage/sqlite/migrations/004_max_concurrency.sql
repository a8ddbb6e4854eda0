-- A subscription may set how many attempts may be in flight to it at once; NULL: the
-- process's delivery.perSubscriptionConcurrency.
ALTER TABLE hookline_subscriptions ADD COLUMN max_concurrency INTEGER CHECK (max_concurrency > 0);
