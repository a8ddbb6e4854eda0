-- Recording a batch of attempts in one round trip (it was up to eight statements in a
-- transaction): lock the subscriptions (before their deliveries, as every transaction that
-- touches both does, or they deadlock), append the attempts, move each delivery to its
-- outcome, apply the receivers' requests to remove or disable subscriptions, and carry
-- each subscription's run of failures forward. Returns how each run moved.
CREATE FUNCTION record_attempts(
  d_ids text[], d_at bigint[], d_ms int[], d_code int[], d_body text[], d_error text[],
  d_status text[], d_next bigint[],
  a_subs text[], a_status text[], a_reason text[], a_at bigint[],
  r_subs text[], r_success bigint[], r_failures int[], r_first bigint[]
) RETURNS TABLE (o_subscription text, o_before int, o_after int, o_since bigint)
LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM 1 FROM {{schema}}.subscriptions s WHERE s.id = ANY (r_subs) ORDER BY s.id FOR NO KEY UPDATE;

  INSERT INTO {{schema}}.attempts (delivery_id, attempted_at, duration_ms, status_code, response_body, error)
    SELECT * FROM unnest(d_ids, d_at, d_ms, d_code, d_body, d_error);

  -- A delivery seen twice in one batch (a lease that ran out) keeps its last outcome.
  UPDATE {{schema}}.deliveries d SET status = r.status, attempts = d.attempts + r.n,
      next_attempt_at = r.next_at, lease_until = NULL, last_status_code = r.code,
      last_error = r.error, updated_at = r.at
    FROM (
      SELECT DISTINCT ON (u.id) u.*, count(*) OVER (PARTITION BY u.id) AS n
      FROM unnest(d_ids, d_status, d_next, d_code, d_error, d_at)
        WITH ORDINALITY AS u (id, status, next_at, code, error, at, ord)
      ORDER BY u.id, u.ord DESC
    ) r
    WHERE d.id = r.id;

  IF coalesce(cardinality(a_subs), 0) > 0 THEN
    UPDATE {{schema}}.subscriptions s SET status = a.status, disabled_reason = a.reason, updated_at = a.at
      FROM (
        SELECT DISTINCT ON (u.id) u.* FROM unnest(a_subs, a_status, a_reason, a_at)
          WITH ORDINALITY AS u (id, status, reason, at, ord)
        ORDER BY u.id, u.ord DESC
      ) a
      WHERE s.id = a.id AND s.status <> 'removed';
    UPDATE {{schema}}.deliveries SET status = 'cancelled', next_attempt_at = NULL, lease_until = NULL,
        updated_at = (SELECT max(x) FROM unnest(a_at) AS x)
      WHERE subscription_id = ANY (a_subs) AND status IN ('pending', 'failed');
  END IF;

  -- The SELECT reads the rows as they were before this statement's UPDATE.
  RETURN QUERY
    WITH h AS (
      SELECT r.id, s.consecutive_failures AS before,
        CASE WHEN r.success IS NULL THEN s.consecutive_failures ELSE 0 END + r.failures AS after,
        CASE WHEN r.failures = 0 THEN NULL
             WHEN r.success IS NULL THEN coalesce(s.failing_since, r.first)
             ELSE r.first END AS since,
        r.success
      FROM unnest(r_subs, r_success, r_failures, r_first) AS r (id, success, failures, first)
      JOIN {{schema}}.subscriptions s ON s.id = r.id
    ), moved AS (
      UPDATE {{schema}}.subscriptions s SET consecutive_failures = h.after, failing_since = h.since,
          last_success_at = coalesce(h.success, s.last_success_at)
        FROM h WHERE s.id = h.id
    )
    SELECT h.id, h.before, h.after, h.since FROM h;
END
$fn$;
