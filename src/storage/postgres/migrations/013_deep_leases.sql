-- The outbox step may also lease beyond each subscription's share to the subscriptions in
-- deep_to, up to deep_limit more (the dispatcher's deep queue, while its process delivers
-- alone). Processes of the previous version call the 14-argument form, kept as a wrapper.
DROP FUNCTION {{schema}}.write_messages(bigint[], text[], text[], jsonb[], text[], bigint[], text[], text[], text, text,
  bigint, integer, integer, text[]);
CREATE FUNCTION {{schema}}.write_messages(
  change_ids bigint[],
  ids text[], events text[], row_ids jsonb[], bodies text[], created bigint[],
  only_subscriptions text[], only_deliveries text[],
  channel text, payload text,
  lease_to bigint, lease_limit integer, lease_per_subscription integer, lease_exclude text[],
  deep_limit integer, deep_to text[],
  OUT made integer, OUT leased jsonb, OUT fanned_to text[]
) LANGUAGE plpgsql AS $$
DECLARE
  consumed integer;
  expected integer;
  more integer;
BEGIN
  made := 0;
  leased := '[]';
  fanned_to := '{}';
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
    RETURN;
  END IF;
  INSERT INTO {{schema}}.messages (id, event, row_id, body, created_at)
    SELECT * FROM unnest(ids, events, row_ids, bodies, created);
  -- Delivery ids as Hookline makes them: 'dlv_', the message's time part, 16 random characters.
  WITH fan AS (
    SELECT 'dlv_' || substr(m.id, 5, 10) || substr(md5(random()::text || s.id), 1, 16) AS id,
      m.id AS message_id, s.id AS subscription_id, m.event, m.at, m.n,
      lease_to IS NOT NULL AND s.ordering = 'concurrent'
        AND NOT (s.id = ANY (coalesce(lease_exclude, '{}')))
        AND row_number() OVER (PARTITION BY s.id ORDER BY m.n)
          <= coalesce(s.max_concurrency, lease_per_subscription) AS may_lease,
      lease_to IS NOT NULL AND s.ordering = 'concurrent'
        AND s.id = ANY (coalesce(deep_to, '{}')) AS may_deep
    FROM unnest(ids, events, created, only_subscriptions) WITH ORDINALITY AS m (id, event, at, only_sub, n)
    JOIN {{schema}}.subscriptions s ON s.event = m.event AND s.status = 'active'
    WHERE m.only_sub IS NULL
  ),
  shared AS (
    SELECT f.*, f.may_lease
      AND count(*) FILTER (WHERE f.may_lease) OVER (ORDER BY f.n, f.subscription_id) <= lease_limit AS in_share
    FROM fan f
  ),
  chosen AS (
    SELECT h.*, h.in_share OR (h.may_deep AND NOT h.in_share
      AND count(*) FILTER (WHERE h.may_deep AND NOT h.in_share)
        OVER (ORDER BY h.n, h.subscription_id) <= coalesce(deep_limit, 0)) AS took
    FROM shared h
  ),
  written AS (
    INSERT INTO {{schema}}.deliveries
        (id, message_id, subscription_id, event, status, attempts, next_attempt_at, lease_until, created_at, updated_at)
      SELECT c.id, c.message_id, c.subscription_id, c.event, 'pending', 0, c.at,
        CASE WHEN c.took THEN lease_to END, c.at, c.at
      FROM chosen c ORDER BY c.n, c.subscription_id
      RETURNING 1
  )
  SELECT (SELECT count(*) FROM written),
    coalesce((SELECT jsonb_agg(jsonb_build_object(
        'id', c.id, 'message_id', c.message_id, 'subscription_id', c.subscription_id,
        'event', c.event, 'attempts', 0, 'target_url', s.target_url, 'secret', s.secret,
        'previous_secret', s.previous_secret,
        'previous_secret_expires_at', s.previous_secret_expires_at, 'headers', s.headers,
        'max_concurrency', s.max_concurrency) ORDER BY c.n, c.subscription_id)
      FROM chosen c JOIN {{schema}}.subscriptions s ON s.id = c.subscription_id
      WHERE c.took), '[]'),
    ARRAY(SELECT subscription_id FROM chosen
      UNION SELECT x FROM unnest(only_subscriptions) AS x WHERE x IS NOT NULL)
    INTO made, leased, fanned_to;
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
  -- Other processes are woken for what this one did not lease.
  IF made > jsonb_array_length(leased) THEN
    PERFORM pg_notify(channel, payload);
  END IF;
END
$$;

CREATE FUNCTION {{schema}}.write_messages(
  change_ids bigint[],
  ids text[], events text[], row_ids jsonb[], bodies text[], created bigint[],
  only_subscriptions text[], only_deliveries text[],
  channel text, payload text,
  lease_to bigint, lease_limit integer, lease_per_subscription integer, lease_exclude text[],
  OUT made integer, OUT leased jsonb, OUT fanned_to text[]
) LANGUAGE sql AS $$
  SELECT * FROM {{schema}}.write_messages(change_ids, ids, events, row_ids, bodies, created,
    only_subscriptions, only_deliveries, channel, payload,
    lease_to, lease_limit, lease_per_subscription, lease_exclude, 0, NULL)
$$;
