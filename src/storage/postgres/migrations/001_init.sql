-- Hookline's own tables on PostgreSQL, in their own schema (`{{schema}}`, default hookline).
-- Times are unix milliseconds (bigint). The migration runs with search_path set to the
-- schema; only the capture function names it, because it runs in the writers' sessions.

-- The change log. Ids come from a sequence and are taken before commit, so they do NOT
-- follow commit order across transactions: the consumer deletes what it consumed and
-- reads from the head of the log again, so a change committed late is still read.
CREATE TABLE changes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  table_name text NOT NULL,
  action text NOT NULL CHECK (action IN ('insert', 'update', 'delete')),
  row_id jsonb,
  old_row jsonb,
  new_row jsonb,
  created_at bigint NOT NULL,
  error text
);
CREATE INDEX changes_pending ON changes (id) WHERE error IS NULL;

-- One row trigger function for every tracked table: TG_ARGV[0] names the primary key
-- column. It only appends to the log; no NOTIFY (it would serialise the writers' commits).
CREATE FUNCTION capture_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  old_row jsonb;
  new_row jsonb;
BEGIN
  IF TG_OP <> 'INSERT' THEN old_row := to_jsonb(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN new_row := to_jsonb(NEW); END IF;
  INSERT INTO {{schema}}.changes (table_name, action, row_id, old_row, new_row, created_at)
  VALUES (TG_TABLE_NAME, lower(TG_OP), COALESCE(new_row, old_row) -> TG_ARGV[0], old_row, new_row,
          (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
  RETURN NULL;
END
$fn$;

CREATE TABLE subscriptions (
  id text PRIMARY KEY,
  event text NOT NULL,
  target_url text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'disabled', 'removed')),
  secret text NOT NULL,
  previous_secret text,
  previous_secret_expires_at bigint,
  headers jsonb NOT NULL DEFAULT '{}',
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  disabled_reason text
);
CREATE INDEX subscriptions_event ON subscriptions (event, status);
CREATE INDEX subscriptions_target ON subscriptions (target_url);

CREATE TABLE messages (
  id text PRIMARY KEY,
  event text NOT NULL,
  row_id jsonb,
  body text NOT NULL,
  created_at bigint NOT NULL
);
CREATE INDEX messages_event ON messages (event, created_at);

CREATE TABLE deliveries (
  id text PRIMARY KEY,
  message_id text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
  subscription_id text NOT NULL REFERENCES subscriptions (id) ON DELETE CASCADE,
  event text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'failed', 'succeeded', 'dead', 'cancelled')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at bigint,
  lease_until bigint,
  last_status_code integer,
  last_error text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
-- Only deliveries still to be made are in this index: the claim query reads it alone.
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id)
  WHERE status IN ('pending', 'failed');
CREATE INDEX deliveries_subscription ON deliveries (subscription_id, created_at);
CREATE INDEX deliveries_message ON deliveries (message_id);
CREATE INDEX deliveries_created ON deliveries (created_at DESC, id DESC);

CREATE TABLE attempts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  delivery_id text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
  attempted_at bigint NOT NULL,
  duration_ms integer NOT NULL,
  status_code integer,
  response_body text,
  error text
);
CREATE INDEX attempts_delivery ON attempts (delivery_id);

CREATE TABLE meta (
  key text PRIMARY KEY,
  value text NOT NULL
);
