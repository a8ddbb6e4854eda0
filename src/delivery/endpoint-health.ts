import type { HealthChange } from '../storage/types.ts'

const DAY = 86_400_000

export interface HealthPolicy {
  /** Consecutive failures after which a subscription counts as failing. Default 5. */
  readonly failingAfter: number
  /** A subscription failing without any success for this long is disabled. Default 5 days. */
  readonly disableAfterMs: number
  /** …provided it failed at least this many times in a row. Default 10. */
  readonly disableMinFailures: number
}

export const DEFAULT_HEALTH_POLICY: HealthPolicy = Object.freeze({
  failingAfter: 5,
  disableAfterMs: 5 * DAY,
  disableMinFailures: 10,
})

export type HealthVerdict =
  | { readonly kind: 'failing' }
  | { readonly kind: 'recovered' }
  | { readonly kind: 'disable'; readonly reason: string }

/** What a change in a subscription's run of failures calls for. Pure. */
export function assessHealth(
  change: HealthChange,
  now: number,
  policy: HealthPolicy,
): HealthVerdict[] {
  const out: HealthVerdict[] = []
  if (change.failuresBefore < policy.failingAfter && change.failuresAfter >= policy.failingAfter)
    out.push({ kind: 'failing' })
  if (change.failuresBefore >= policy.failingAfter && change.failuresAfter === 0)
    out.push({ kind: 'recovered' })
  if (
    change.failingSince !== null &&
    now - change.failingSince >= policy.disableAfterMs &&
    change.failuresAfter >= policy.disableMinFailures
  ) {
    const days = Math.round(((now - change.failingSince) / DAY) * 10) / 10
    out.push({
      kind: 'disable',
      reason: `no successful delivery for ${days} days (${change.failuresAfter} failed attempts in a row)`,
    })
  }
  return out
}
