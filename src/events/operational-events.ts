import type { Subscription } from '../storage/types.ts'
import type { EventDefinition } from './define-event.ts'
import type { EventSource } from './event-catalog.ts'

/** Events about Hookline's own subscriptions, which can be subscribed to like any other. */
export const OPERATIONAL_EVENTS = Object.freeze({
  failing: 'SubscriptionFailing',
  recovered: 'SubscriptionRecovered',
  disabled: 'SubscriptionDisabled',
} as const)

const sample = {
  subscription_id: 'sub_01jd3k0000000000000000000',
  event: 'NewOpportunity',
  target_url: 'https://example.com/hooks',
  status: 'active',
  consecutive_failures: 5,
  failing_since: '2026-01-01T00:00:00.000Z',
  disabled_reason: null,
}

function payload(s: Subscription) {
  return {
    subscription_id: s.id,
    event: s.event,
    target_url: s.targetUrl,
    status: s.status,
    consecutive_failures: s.consecutiveFailures,
    failing_since: s.failingSince === null ? null : new Date(s.failingSince).toISOString(),
    disabled_reason: s.disabledReason,
  }
}

/** The operational events' definitions; `rowId` is the subscription's id. */
export function operationalEvents(
  getSubscription: (id: string) => Promise<Subscription | null>,
): EventSource[] {
  const define = (name: string, description: string, status: string): EventSource => {
    const definition: EventDefinition = {
      description,
      async build({ rowId }) {
        const s = await getSubscription(String(rowId))
        return s ? payload(s) : { ...sample, subscription_id: rowId }
      },
      sample: {
        ...sample,
        status,
        ...(status === 'disabled' ? { disabled_reason: 'receiver answered 410 Gone' } : {}),
      },
    }
    return { name, definition }
  }
  return [
    define(
      OPERATIONAL_EVENTS.failing,
      'A subscription has failed several times in a row',
      'active',
    ),
    define(
      OPERATIONAL_EVENTS.recovered,
      'A failing subscription received a delivery again',
      'active',
    ),
    define(
      OPERATIONAL_EVENTS.disabled,
      'A subscription was disabled or removed by Hookline or its receiver',
      'disabled',
    ),
  ]
}
