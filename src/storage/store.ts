import type {
  Attempt,
  AttemptResult,
  Change,
  ChangeWait,
  ClaimHold,
  Committed,
  Db,
  Delivery,
  DeliveryFilter,
  DeliveryJob,
  FailedChange,
  HealthChange,
  LeaseOffer,
  Message,
  NewMessage,
  NewSubscription,
  RowId,
  Subscription,
  SubscriptionFilter,
  SubscriptionPatch,
} from './types.ts'

/** What differs between backends, in one place. */
export interface StoreCapabilities {
  /** Several Hookline processes may deliver from the same database. */
  readonly multiProcess: boolean
  /** SQL dialect of the application's database, for payload builders' SQL. */
  readonly dialect: 'sqlite' | 'postgres'
}

/**
 * The storage port. Every method is one transaction at most; both SQLite and PostgreSQL
 * implement it and pass the same contract suite (`test/storage/store.contract.ts`).
 */
export interface Store {
  readonly capabilities: StoreCapabilities
  /** A human-readable location, password hidden (for logs and errors). */
  readonly description: string

  /** Creates or upgrades Hookline's own tables. Idempotent. */
  migrate(): Promise<void>
  /** Runs SQL (the application's schema, in demos and tests). */
  exec(sql: string): Promise<void>
  close(): Promise<void>

  // --- the application's tables -------------------------------------------------------
  tableExists(table: string): Promise<boolean>
  /**
   * Installs (or refreshes, when columns changed) the row triggers of these tables, and
   * removes Hookline's triggers from tables no longer tracked. `notify` (PostgreSQL) adds a
   * statement trigger that wakes Hookline when a tracked table changed.
   */
  installCapture(tables: readonly string[], options?: { notify?: boolean }): Promise<void>
  /** The ids of the most recent rows of a table (matching an SQL condition), newest first. */
  recentRowIds(table: string, limit: number, where?: string): Promise<RowId[]>
  readonly db: Db

  // --- change log ---------------------------------------------------------------------
  /** The oldest unconsumed changes, in commit order. */
  readChanges(limit: number): Promise<Change[]>
  /**
   * Like `readChanges`, but an empty log is waited on in the database for up to `wait.ms`:
   * capture's poll without a round trip per look. Stores without it are polled.
   */
  waitForChanges?(limit: number, wait: ChangeWait): Promise<Change[]>
  /**
   * In one transaction: stores the messages, creates one delivery per active
   * subscription of each message's event, and marks the changes consumed. This is the
   * outbox step: a crash before it leaves the changes to be read again, after it leaves
   * nothing to redo. With a `lease` offer, some of the new deliveries are leased to this
   * process in the same transaction and returned ready to send.
   */
  commitChanges(
    consumedChangeIds: readonly number[],
    messages: readonly NewMessage[],
    lease?: LeaseOffer | null,
  ): Promise<Committed>
  /**
   * The seed from which the messages of the changes read next take their ids
   * (`changeMessageId`): kept in the database, made on first use, and changed only where
   * change ids may be reused (SQLite, once the highest is consumed), so that a seed and a
   * change id name one change. Read again after an outbox step lost in a crash, a change
   * makes the same `webhook-id`s; so the outbox step need not wait for the disk.
   */
  changeMessageSeed?(): Promise<string>
  /** Sets a change aside after its handler failed, so it does not block the others. */
  failChange(changeId: number, error: string): Promise<void>
  /** The changes set aside, oldest first, with the error that stopped each. */
  listFailedChanges(limit: number): Promise<FailedChange[]>
  /** Puts set-aside changes (these, or all) back in the log, to be processed again. Returns how many. */
  retryFailedChanges(ids?: readonly number[]): Promise<number>
  /** Stores messages that do not come from a change (app code, CLI, test sends). */
  insertMessages(messages: readonly NewMessage[]): Promise<number>
  countPendingChanges(): Promise<number>
  /**
   * Stores shared by several processes elect one change consumer: true while this process
   * holds that role (taking it when it is free, e.g. after the holder died). Stores without
   * it have one consumer per database by construction.
   */
  acquireChangeConsumerLock?(): Promise<boolean>
  /**
   * Calls `listener` when another process (or this one) may have added due deliveries or
   * changes; returns an unsubscribe function. Stores without it rely on polling.
   */
  onNotify?(listener: () => void): () => void
  /**
   * Shared stores: whether this process is, as last seen, the only running Hookline
   * process on the store (looked up in the background, at most once a second; false until
   * known). Stores without it have one delivering process by construction.
   */
  alone?(): boolean

  // --- subscriptions ------------------------------------------------------------------
  /** Returns the existing active or disabled subscription for the same event and URL, if any. */
  createSubscription(
    input: NewSubscription,
  ): Promise<{ subscription: Subscription; created: boolean }>
  getSubscription(id: string): Promise<Subscription | null>
  listSubscriptions(filter: SubscriptionFilter): Promise<Subscription[]>
  updateSubscription(
    id: string,
    patch: SubscriptionPatch,
    now: number,
  ): Promise<Subscription | null>
  /** Marks it removed and cancels its pending deliveries. Returns false if it never existed. */
  removeSubscription(id: string, now: number, reason?: string): Promise<boolean>
  rotateSecret(
    id: string,
    secret: string,
    graceUntil: number,
    now: number,
  ): Promise<Subscription | null>

  // --- deliveries ---------------------------------------------------------------------
  /**
   * Claims up to `limit` due deliveries (next attempt at or before `now`) and leases them
   * until `now + leaseMs`, skipping subscriptions in `excludeSubscriptionIds` and taking
   * at most its limit (`maxConcurrency`, else `perSubscription`) from any one
   * subscription: the oldest of each, so that no subscription's backlog fills a claim and
   * holds back the others. With `hold`, a subscription may give `hold.rounds` of its
   * limit less what the claiming process holds of it.
   */
  claimDeliveries(
    now: number,
    limit: number,
    leaseMs: number,
    excludeSubscriptionIds?: readonly string[],
    perSubscription?: number,
    hold?: ClaimHold,
  ): Promise<DeliveryJob[]>
  /**
   * Records attempts and their outcomes in one transaction, with each subscription's
   * run of failures; returns how that run changed for every subscription involved.
   */
  recordAttempts(results: readonly AttemptResult[]): Promise<HealthChange[]>
  /** Hands claimed deliveries back unsent (their subscription is at its concurrency limit). */
  releaseDeliveries(ids: readonly string[]): Promise<void>
  /** Claims one delivery by id, if it is due and not leased (test sends). */
  claimDelivery(id: string, now: number, leaseMs: number): Promise<DeliveryJob | null>
  /** Makes a subscription's failed, dead and cancelled deliveries since `since` due again. Returns how many. */
  recoverDeliveries(subscriptionId: string, since: number, now: number): Promise<number>
  /** Deletes messages older than `before` whose deliveries are all finished, with their attempts. */
  prune(before: number): Promise<number>
  /** When the next delivery falls due, or null when none waits. */
  nextDueAt(): Promise<number | null>
  /** Ends the leases this process may hold (start-up after a crash, single-process stores). */
  releaseLeases(): Promise<void>
  getDelivery(id: string): Promise<(Delivery & { attemptLog: Attempt[] }) | null>
  listDeliveries(filter: DeliveryFilter): Promise<Delivery[]>
  /**
   * Makes a delivery due now again, whatever its state, unless it is leased (being
   * attempted right now): then `retried` is false and nothing changes.
   */
  retryDelivery(id: string, now: number): Promise<{ delivery: Delivery; retried: boolean } | null>
  getMessage(id: string): Promise<Message | null>
  countMessages(event?: string): Promise<number>

  // --- settings kept in the database ---------------------------------------------------
  getMeta(key: string): Promise<string | null>
  setMeta(key: string, value: string): Promise<void>
}
