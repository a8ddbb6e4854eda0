-- The outbox step in one round trip (it was seven statements in a transaction): consume
-- the changes, store the messages, fan each out to the active subscriptions of its event
-- (or to its one subscription), and wake the other Hookline processes. A change already
-- consumed by another process (one that took over the change log meanwhile) rolls it all
-- back with SQLSTATE HL001.
CREATE FUNCTION {{schema}}.write_messages(
  change_ids bigint[],
  ids text[], events text[], row_ids jsonb[], bodies text[], created bigint[],
  only_subscriptions text[], only_deliveries text[],
  channel text, payload text
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  consumed integer;
  expected integer;
  made integer := 0;
  more integer;
BEGIN
  IF change_ids IS NOT NULL THEN
    DELETE FROM {{schema}}.changes WHERE id = ANY (change_ids);
    GET DIAGNOSTICS consumed = ROW_COUNT;
    SELECT count(DISTINCT x) INTO expected FROM unnest(change_ids) AS x;
    IF consumed <> expected THEN
      RAISE EXCEPTION '% of % changes were consumed by another Hookline process meanwhile: this batch is rolled back and read again',
        expected - consumed, expected USING ERRCODE = 'HL001';
    END IF;
  END IF;
  IF coalesce(cardinality(ids), 0) = 0 THEN
    RETURN 0;
  END IF;
  INSERT INTO {{schema}}.messages (id, event, row_id, body, created_at)
    SELECT * FROM unnest(ids, events, row_ids, bodies, created);
  -- Delivery ids as Hookline makes them: 'dlv_', the message's time part, 16 random characters.
  INSERT INTO {{schema}}.deliveries
      (id, message_id, subscription_id, event, status, attempts, next_attempt_at, created_at, updated_at)
    SELECT 'dlv_' || substr(m.id, 5, 10) || substr(md5(random()::text || s.id), 1, 16),
      m.id, s.id, m.event, 'pending', 0, m.at, m.at, m.at
    FROM unnest(ids, events, created, only_subscriptions) WITH ORDINALITY AS m (id, event, at, only_sub, n)
    JOIN {{schema}}.subscriptions s ON s.event = m.event AND s.status = 'active'
    WHERE m.only_sub IS NULL
    ORDER BY m.n, s.id;
  GET DIAGNOSTICS made = ROW_COUNT;
  INSERT INTO {{schema}}.deliveries
      (id, message_id, subscription_id, event, status, attempts, next_attempt_at, created_at, updated_at)
    SELECT coalesce(m.only_dlv, 'dlv_' || substr(m.id, 5, 10) || substr(md5(random()::text || m.only_sub), 1, 16)),
      m.id, m.only_sub, m.event, 'pending', 0, m.at, m.at, m.at
    FROM unnest(ids, events, created, only_subscriptions, only_deliveries) WITH ORDINALITY
      AS m (id, event, at, only_sub, only_dlv, n)
    WHERE m.only_sub IS NOT NULL
    ORDER BY m.n;
  GET DIAGNOSTICS more = ROW_COUNT;
  made := made + more;
  IF made > 0 THEN
    PERFORM pg_notify(channel, payload);
  END IF;
  RETURN made;
END
$$;
