import type { Store } from './store.ts'

// The store's methods by concept. Each store implements one part per file
// (`<store>-outbox.ts`, `-subscriptions.ts`, `-claims.ts`, `-deliveries.ts`) and joins them.

/** The change log and the outbox step. */
export type OutboxPart = Pick<
  Store,
  | 'readChanges'
  | 'waitForChanges'
  | 'changeMessageSeed'
  | 'commitChanges'
  | 'failChange'
  | 'listFailedChanges'
  | 'retryFailedChanges'
  | 'insertMessages'
  | 'countPendingChanges'
>

export type SubscriptionsPart = Pick<
  Store,
  | 'createSubscription'
  | 'getSubscription'
  | 'listSubscriptions'
  | 'updateSubscription'
  | 'removeSubscription'
  | 'rotateSecret'
>

/** Leases on deliveries, and the attempts that end them. */
export type ClaimsPart = Pick<
  Store,
  'claimDeliveries' | 'claimDelivery' | 'releaseDeliveries' | 'recordAttempts' | 'releaseLeases'
>

/** The delivery log: reading, retrying, recovering and pruning it. */
export type DeliveriesPart = Pick<
  Store,
  | 'nextDueAt'
  | 'getDelivery'
  | 'listDeliveries'
  | 'retryDelivery'
  | 'getMessage'
  | 'countMessages'
  | 'recoverDeliveries'
  | 'prune'
>
