-- Capture's look at the change log may wait on the server for the first change, instead of
-- the process asking again and again over the network: up to wait_ms, looking every
-- millisecond while changes came lately, less often as the log stays quiet (a twentieth of
-- the quiet time, at most every every_max_ms). A volatile function reads with a new
-- snapshot per statement, so each look sees what committed meanwhile.
CREATE FUNCTION {{schema}}.read_changes(lim integer, wait_ms integer, quiet_ms integer, every_max_ms integer)
RETURNS SETOF {{schema}}.changes LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  started timestamptz := clock_timestamp();
  waited double precision := 0;
BEGIN
  LOOP
    RETURN QUERY SELECT * FROM {{schema}}.changes WHERE error IS NULL ORDER BY id LIMIT lim;
    IF FOUND OR waited >= wait_ms THEN
      RETURN;
    END IF;
    PERFORM pg_sleep(least(every_max_ms, greatest(1, (quiet_ms + waited) / 20), wait_ms - waited) / 1000.0);
    waited := extract(epoch FROM clock_timestamp() - started) * 1000;
  END LOOP;
END
$$;
