-- A foreign key checks every inserted row against its parent and locks that parent row
-- (FOR KEY SHARE: a write-ahead log record, and a shared lock that every outbox step and
-- every record of attempts takes on the same subscription rows). That was 5 % of the
-- server's time per delivery. Hookline alone writes these tables and always writes a
-- parent before its children, so the checks go; what the keys did on delete stays, done
-- once per statement from the deleted rows: deleting messages (pruning) deletes their
-- deliveries, deleting deliveries deletes their attempts, whoever deletes.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_message_id_fkey,
  DROP CONSTRAINT deliveries_subscription_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_id_fkey;

CREATE FUNCTION {{schema}}.cascade_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_TABLE_NAME = 'deliveries' THEN
    DELETE FROM {{schema}}.attempts a USING gone WHERE a.delivery_id = gone.id;
  ELSIF TG_TABLE_NAME = 'messages' THEN
    DELETE FROM {{schema}}.deliveries d USING gone WHERE d.message_id = gone.id;
  ELSE
    DELETE FROM {{schema}}.deliveries d USING gone WHERE d.subscription_id = gone.id;
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER messages_cascade AFTER DELETE ON messages
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.cascade_deleted();
CREATE TRIGGER deliveries_cascade AFTER DELETE ON deliveries
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.cascade_deleted();
CREATE TRIGGER subscriptions_cascade AFTER DELETE ON subscriptions
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION {{schema}}.cascade_deleted();
