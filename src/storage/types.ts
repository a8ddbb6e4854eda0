import type { ChangeAction, DeliveryState, SubscriptionState } from './states.ts'

export type RowId = string | number
export type Row = Record<string, unknown>

/** One captured row change, as the tracking handler of its table receives it. */
export interface Change {
  /** Position in the change log; increases in commit order on SQLite. */
  readonly id: number
  readonly table: string
  readonly action: ChangeAction
  readonly rowId: RowId
  /** The row before the change (update, delete); `null` for inserts. */
  readonly before: Row | null
  /** The row after the change (insert, update); `null` for deletes. */
  readonly after: Row | null
  readonly createdAt: number
}

/**
 * How long `waitForChanges` may wait for the first change, and how often it looks: every
 * millisecond right after changes came, then at a twentieth of the quiet time (`quietMs`
 * when the wait begins), at most every `everyMaxMs`.
 */
export interface ChangeWait {
  readonly ms: number
  readonly quietMs: number
  readonly everyMaxMs: number
}

/** A change whose tracking handler or payload builder failed, set aside with its error. */
export interface FailedChange extends Change {
  readonly error: string
}

export interface Subscription {
  readonly id: string
  readonly event: string
  readonly targetUrl: string
  readonly status: SubscriptionState
  readonly secret: string
  /** The secret that still signs during a rotation's grace period. */
  readonly previousSecret: string | null
  readonly previousSecretExpiresAt: number | null
  readonly headers: Record<string, string>
  readonly createdAt: number
  readonly updatedAt: number
  readonly disabledReason: string | null
  readonly ordering: Ordering
  /** Attempts in flight to it at once; null: the process's `perSubscriptionConcurrency`. */
  readonly maxConcurrency: number | null
  /** Failed attempts since the last success. */
  readonly consecutiveFailures: number
  readonly failingSince: number | null
}

export type Ordering = 'concurrent' | 'strict'

export interface NewSubscription {
  readonly id: string
  readonly event: string
  readonly targetUrl: string
  readonly secret: string
  readonly headers: Record<string, string>
  readonly now: number
  /** `strict`: one message at a time, in event order. Default `concurrent`. */
  readonly ordering?: Ordering
  readonly maxConcurrency?: number | null
}

/** How one subscription's run of failures changed in a batch of attempts. */
export interface HealthChange {
  readonly subscriptionId: string
  readonly failuresBefore: number
  readonly failuresAfter: number
  /** When the current run of failures began; null after a success. */
  readonly failingSince: number | null
}

export interface SubscriptionFilter {
  readonly event?: string
  readonly targetUrl?: string
  readonly includeRemoved?: boolean
}

export interface SubscriptionPatch {
  readonly status?: 'active' | 'disabled'
  readonly ordering?: Ordering
  readonly maxConcurrency?: number | null
  readonly targetUrl?: string
  readonly headers?: Record<string, string>
  readonly disabledReason?: string | null
}

/** A message ready to be stored: the signed body is serialised once, here. */
export interface NewMessage {
  readonly id: string
  readonly event: string
  readonly rowId: RowId | null
  /** The JSON envelope exactly as it is sent on the wire. */
  readonly body: string
  readonly createdAt: number
  /** Deliver only to this subscription (test sends); otherwise to every active one. */
  readonly onlySubscriptionId?: string
  /** The id of that one delivery, chosen by the caller. */
  readonly onlyDeliveryId?: string
}

/**
 * What this process can send at once (the dispatcher's free slots), offered to the outbox
 * step: of the deliveries it creates, it leases up to `limit` (at most each subscription's
 * own limit, else `perSubscription`; none of `exclude`'s, nor of strictly ordered
 * subscriptions) to this process and returns them ready to send, sparing the claim that
 * would otherwise lease them again.
 */
export interface LeaseOffer {
  readonly now: number
  readonly limit: number
  readonly leaseMs: number
  readonly exclude: readonly string[]
  readonly perSubscription: number
  /**
   * Beyond `limit` and each subscription's share: up to `limit` more deliveries of the
   * subscriptions in `to`, which the process keeps queued in memory until it can send them
   * (the dispatcher's deep queue).
   */
  readonly deep?: { readonly limit: number; readonly to: ReadonlySet<string> }
}

/**
 * What the claiming process already holds, so that a claim tops each subscription up to
 * `rounds` of its limit (its slots and a queue behind them) and no further.
 */
export interface ClaimHold {
  readonly rounds: number
  /** Deliveries of each subscription the process holds now, in flight or queued. */
  readonly held: ReadonlyMap<string, number>
}

/** What an outbox step made: how many deliveries, and those leased to this process. */
export interface Committed {
  readonly deliveries: number
  readonly leased: readonly DeliveryJob[]
  /** The subscriptions it made deliveries for. */
  readonly subscriptions: readonly string[]
}

export interface Message {
  readonly id: string
  readonly event: string
  readonly rowId: RowId | null
  readonly body: string
  readonly createdAt: number
}

/** A claimed delivery with all that sending it needs. */
export interface DeliveryJob {
  readonly id: string
  readonly messageId: string
  readonly subscriptionId: string
  readonly event: string
  readonly body: string
  readonly targetUrl: string
  readonly secrets: readonly string[]
  readonly headers: Record<string, string>
  /** Attempts made before this one. */
  readonly attempts: number
  /** The subscription's own limit of attempts in flight, if it set one. */
  readonly maxConcurrency: number | null
  /** Its subscription delivers in order, one at a time (`ordering: 'strict'`). */
  readonly strict: boolean
}

export interface Delivery {
  readonly id: string
  readonly messageId: string
  readonly subscriptionId: string
  readonly event: string
  readonly status: DeliveryState
  readonly attempts: number
  readonly nextAttemptAt: number | null
  readonly lastStatusCode: number | null
  readonly lastError: string | null
  readonly createdAt: number
  readonly updatedAt: number
}

export interface Attempt {
  readonly id: number
  readonly deliveryId: string
  readonly attemptedAt: number
  readonly durationMs: number
  readonly statusCode: number | null
  readonly responseBody: string | null
  readonly error: string | null
}

export interface DeliveryFilter {
  readonly subscriptionId?: string
  readonly status?: DeliveryState
  readonly event?: string
  readonly limit: number
}

/** What one attempt led to, written back in batches. */
export interface AttemptResult {
  readonly deliveryId: string
  readonly subscriptionId: string
  readonly event: string
  readonly attemptedAt: number
  readonly durationMs: number
  readonly statusCode: number | null
  readonly responseBody: string | null
  readonly error: string | null
  readonly status: DeliveryState
  /** When to try again (`failed` only). */
  readonly nextAttemptAt: number | null
  /** The receiver asked to stop: remove or disable the subscription at once. */
  readonly subscriptionAction: {
    readonly status: 'removed' | 'disabled'
    readonly reason: string
  } | null
}

/** A query helper for payload builders that works on every store. `?` placeholders. */
export interface Db {
  one<T = Row>(sql: string, params?: readonly unknown[]): Promise<T>
  maybeOne<T = Row>(sql: string, params?: readonly unknown[]): Promise<T | null>
  all<T = Row>(sql: string, params?: readonly unknown[]): Promise<T[]>
}
