-- Hookline's own tables on SQLite. Times are unix milliseconds (INTEGER).

-- AUTOINCREMENT: ids are never reused, so the log's order is the commit order even after
-- the newest rows were consumed and deleted.
CREATE TABLE hookline_changes (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  table_name TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
  row_id ANY,
  old_row TEXT,
  new_row TEXT,
  created_at INTEGER NOT NULL,
  error TEXT
) STRICT;

CREATE TABLE hookline_subscriptions (
  id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  target_url TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('active', 'disabled', 'removed')),
  secret TEXT NOT NULL,
  previous_secret TEXT,
  previous_secret_expires_at INTEGER,
  headers TEXT NOT NULL DEFAULT '{}',
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  disabled_reason TEXT
) STRICT;
CREATE INDEX hookline_subscriptions_event ON hookline_subscriptions (event, status);
CREATE INDEX hookline_subscriptions_target ON hookline_subscriptions (target_url);

CREATE TABLE hookline_messages (
  id TEXT PRIMARY KEY,
  event TEXT NOT NULL,
  row_id ANY,
  body TEXT NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX hookline_messages_event ON hookline_messages (event, created_at);

CREATE TABLE hookline_deliveries (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES hookline_messages (id) ON DELETE CASCADE,
  subscription_id TEXT NOT NULL REFERENCES hookline_subscriptions (id) ON DELETE CASCADE,
  event TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'failed', 'succeeded', 'dead', 'cancelled')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  lease_until INTEGER,
  last_status_code INTEGER,
  last_error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) STRICT;
-- Only deliveries still to be made are in this index: the claim query reads it alone.
CREATE INDEX hookline_deliveries_due ON hookline_deliveries (next_attempt_at)
  WHERE status IN ('pending', 'failed');
CREATE INDEX hookline_deliveries_subscription ON hookline_deliveries (subscription_id, created_at);
CREATE INDEX hookline_deliveries_message ON hookline_deliveries (message_id);

CREATE TABLE hookline_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL REFERENCES hookline_deliveries (id) ON DELETE CASCADE,
  attempted_at INTEGER NOT NULL,
  duration_ms INTEGER NOT NULL,
  status_code INTEGER,
  response_body TEXT,
  error TEXT
) STRICT;
CREATE INDEX hookline_attempts_delivery ON hookline_attempts (delivery_id);

CREATE TABLE hookline_meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
