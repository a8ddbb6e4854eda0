-- Opt-in (capture.notify): a statement trigger on each tracked table that wakes the change
-- consumer at once instead of at its next poll. PostgreSQL sends a transaction's identical
-- notifications once, at commit; but every notifying commit queues behind one lock, which
-- slows many concurrent writers: hence opt-in.
CREATE FUNCTION capture_notify() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify(TG_ARGV[0], 'changes');
  RETURN NULL;
END
$fn$;
