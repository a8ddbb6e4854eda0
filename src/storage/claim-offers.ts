import type { JobRow, SubscriptionRow } from './rows.ts'
import type { ClaimHold, LeaseOffer } from './types.ts'

/**
 * How many deliveries each subscription offers a claim at first: twice its fair share of
 * the claim, as offering every subscription's whole limit reads far more rows than are
 * kept when many have work.
 */
export function fairShare(limit: number, activeSubscriptions: number): number {
  return Math.ceil((2 * limit) / Math.max(1, activeSubscriptions))
}

/**
 * How many deliveries of a subscription a claim may give: `hold.rounds` of its limit
 * (`max_concurrency`, else `defaultLimit`) less what the claiming process holds of it.
 */
export function roomFor(
  defaultLimit: number,
  hold?: ClaimHold,
): (subscriptionId: string, maxConcurrency: number | null) => number {
  return (id, maxConcurrency) =>
    Math.max(0, (maxConcurrency ?? defaultLimit) * (hold?.rounds ?? 1) - (hold?.held.get(id) ?? 0))
}

/** Deliveries per subscription among claimed rows. */
export function countBySubscription(rows: readonly JobRow[]): Map<string, number> {
  const taken = new Map<string, number>()
  for (const r of rows) taken.set(r.subscription_id, (taken.get(r.subscription_id) ?? 0) + 1)
  return taken
}

/**
 * A claim that came back short, where some subscription gave all of its share but less
 * than its `room` (`roomFor`): it may have more due.
 */
export function mayHaveMore(
  rows: readonly JobRow[],
  limit: number,
  share: number,
  room: ReturnType<typeof roomFor>,
): boolean {
  if (rows.length >= limit) return false
  const taken = countBySubscription(rows)
  return rows.some((r) => {
    const n = taken.get(r.subscription_id) ?? 0
    return n >= share && n < room(r.subscription_id, r.max_concurrency)
  })
}

/**
 * Decides, delivery by delivery in the order an outbox step creates them, which it leases
 * under `offer` (the rule that `write_messages` applies in SQL on PostgreSQL, less `deep`).
 */
export function leasePicker(
  offer: LeaseOffer,
): (s: Pick<SubscriptionRow, 'id' | 'ordering' | 'max_concurrency'>) => boolean {
  const exclude = new Set(offer.exclude)
  const taken = new Map<string, number>()
  let left = offer.limit
  let deepLeft = offer.deep?.limit ?? 0
  return (s) => {
    if (s.ordering !== 'concurrent') return false
    const n = taken.get(s.id) ?? 0
    if (left > 0 && !exclude.has(s.id) && n < (s.max_concurrency ?? offer.perSubscription)) {
      taken.set(s.id, n + 1)
      left--
      return true
    }
    if (deepLeft <= 0 || !offer.deep?.to.has(s.id)) return false
    deepLeft--
    return true
  }
}
