/** Delivery states, shared by SQL and TypeScript. */
export const DELIVERY_STATES = Object.freeze({
  /** Waiting for its first attempt. */
  pending: 'pending',
  /** An attempt failed; the next one is scheduled at `next_attempt_at`. */
  failed: 'failed',
  /** Delivered (2xx). */
  succeeded: 'succeeded',
  /** Every attempt of the schedule failed, or the receiver asked not to retry. */
  dead: 'dead',
  /** Its subscription was removed or disabled before it could be delivered. */
  cancelled: 'cancelled',
} as const)

export type DeliveryState = (typeof DELIVERY_STATES)[keyof typeof DELIVERY_STATES]

export const SUBSCRIPTION_STATES = Object.freeze({
  active: 'active',
  disabled: 'disabled',
  /** Unsubscribed (by the API, the CLI or a `410 Gone`); kept so a repeated DELETE is a 204. */
  removed: 'removed',
} as const)

export type SubscriptionState = (typeof SUBSCRIPTION_STATES)[keyof typeof SUBSCRIPTION_STATES]

export const CHANGE_ACTIONS = Object.freeze(['insert', 'update', 'delete'] as const)
export type ChangeAction = (typeof CHANGE_ACTIONS)[number]
