import { availableParallelism } from 'node:os'
import { type Logger, pino } from 'pino'
import { ChangeConsumer, type StepFanOut } from './capture/change-consumer.ts'
import { watchSqliteWal } from './capture/file-watcher.ts'
import { type Clock, systemClock } from './clock.ts'
import { CaptureConfigSchema, checkConfig, DeliveryConfigSchema } from './config/config-schema.ts'
import type { CaptureConfig, DeliveryConfig } from './config/define-config.ts'
import { Dispatcher } from './delivery/dispatcher.ts'
import {
  assessHealth,
  DEFAULT_HEALTH_POLICY,
  type HealthPolicy,
} from './delivery/endpoint-health.ts'
import type { HttpSender } from './delivery/http-sender.ts'
import { InProcessSender } from './delivery/in-process-sender.ts'
import { DEFAULT_RETRY_SCHEDULE } from './delivery/retry-schedule.ts'
import { TargetPolicy } from './delivery/target-policy.ts'
import { ThreadedSender } from './delivery/threaded-sender.ts'
import { asError, ConfigError, HooklineError, NotFoundError, ValidationError } from './errors.ts'
import type { EventDefinition } from './events/define-event.ts'
import { newMessage } from './events/envelope.ts'
import { EventCatalog, type EventSource } from './events/event-catalog.ts'
import { OPERATIONAL_EVENTS, operationalEvents } from './events/operational-events.ts'
import { performList } from './events/perform-list.ts'
import { HooklineEmitter, type HooklineEventMap } from './hookline-events.ts'
import { newId } from './ids.ts'
import { openStore } from './storage/open-store.ts'
import { CheckpointThread } from './storage/sqlite/checkpoint-thread.ts'
import { type SqliteStore, sqliteFile } from './storage/sqlite/sqlite-store.ts'
import {
  CHECKPOINT_INTERVAL_MS,
  SAFETY_AUTOCHECKPOINT_PAGES,
} from './storage/sqlite/wal-checkpoints.ts'
import { DELIVERY_STATES, type DeliveryState } from './storage/states.ts'
import type { Store } from './storage/store.ts'
import type { AttemptResult, DeliveryFilter, HealthChange, RowId } from './storage/types.ts'
import { SubscriptionService } from './subscriptions/subscription-service.ts'
import type { Binding, TrackingDefinition } from './tracking/define-tracking.ts'
import { TrackingPlan, type TrackingSource } from './tracking/tracking-plan.ts'
import { USER_AGENT } from './version.ts'

export interface HooklineOptions {
  /** A database URL (`sqlite:…`, `postgres://…`) or an open store. */
  readonly database: string | Store
  /** Where relative SQLite paths start. Default: the working directory. */
  readonly baseDir?: string
  /** Events by name, or with the files they came from. */
  readonly events: Record<string, EventDefinition<any>> | readonly EventSource[]
  /** Tracking handlers by table, or with the files they came from. */
  readonly tracking?: Record<string, TrackingDefinition> | readonly TrackingSource[]
  readonly bindings?: readonly Binding[]
  /** SQL run once when none of the tracked tables exists yet. */
  readonly initSql?: string
  readonly delivery?: DeliveryConfig
  readonly capture?: CaptureConfig
  readonly clock?: Clock
  /** Jitter source for retries (tests make it fixed). */
  readonly random?: () => number
  /** A pino logger; Hookline logs nothing without one. */
  readonly logger?: Logger
}

/**
 * Deliveries a process that delivers alone (SQLite always, PostgreSQL while no other
 * Hookline process runs on it) may hold leased in memory beyond its queues
 * (`DispatcherOptions.deep`): a burst's worth, a few megabytes.
 */
const DEEP_QUEUE = 32_768

const toSources = <D, S>(
  input: Record<string, D> | readonly S[] | undefined,
  make: (k: string, d: D) => S,
): S[] =>
  input === undefined
    ? []
    : Array.isArray(input)
      ? [...input]
      : Object.entries(input as Record<string, D>).map(([k, d]) => make(k, d))

/**
 * Creates a Hookline: capture, tracking, events and delivery on one database.
 *
 * @example
 * const hookline = await createHookline({
 *   database: 'sqlite:./data/app.db',
 *   events: { NewOpportunity },
 *   tracking: { deal },
 * })
 * await hookline.start()
 */
export async function createHookline(options: HooklineOptions): Promise<Hookline> {
  // Before anything is opened: wrong settings are refused with what they must be.
  checkConfig(DeliveryConfigSchema, options.delivery ?? {}, 'createHookline', 'delivery')
  checkConfig(CaptureConfigSchema, options.capture ?? {}, 'createHookline', 'capture')
  const store =
    typeof options.database === 'string'
      ? await openStore(options.database, {
          ...(options.baseDir ? { baseDir: options.baseDir } : {}),
          ...(options.logger ? { logger: options.logger } : {}),
        })
      : options.database
  try {
    const hookline = new Hookline(store, options)
    await hookline.init()
    return hookline
  } catch (error) {
    if (typeof options.database === 'string') await store.close()
    throw error
  }
}

export class Hookline {
  readonly catalog: EventCatalog
  readonly subscriptions: SubscriptionService
  readonly logger: Logger
  readonly clock: Clock
  /** Where deliveries may go (SSRF protection). */
  readonly targetPolicy: TargetPolicy
  readonly #emitter = new HooklineEmitter()
  #plan: TrackingPlan | null = null
  #consumer: ChangeConsumer | null = null
  readonly #dispatcher: Dispatcher
  readonly #sender: Pick<HttpSender, 'send' | 'close'>
  #unwatch: (() => void) | null = null
  #pruneTimer: NodeJS.Timeout | null = null
  #stopping: Promise<void> | null = null
  readonly #health: HealthPolicy
  readonly #retentionMs: number
  readonly #timeoutMs: number
  #started = false
  /** The store, when it is a SQLite file (WAL watching and checkpoints). */
  readonly #sqlite: SqliteStore | null
  /** Checkpoints the SQLite store's WAL while delivery runs, beside the sending thread. */
  #checkpoints: CheckpointThread | null = null

  constructor(
    readonly store: Store,
    private readonly options: HooklineOptions,
  ) {
    this.clock = options.clock ?? systemClock
    this.logger = options.logger ?? pino({ level: 'silent' })
    this.catalog = new EventCatalog([
      ...toSources(options.events, (name, definition) => ({ name, definition })),
      ...operationalEvents((id) => store.getSubscription(id)),
    ])
    const d = options.delivery ?? {}
    this.targetPolicy = new TargetPolicy(d)
    this.subscriptions = new SubscriptionService(
      store,
      this.catalog,
      this.clock,
      d.rotationGraceMs ?? 86_400_000,
      this.targetPolicy,
    )
    const timeoutMs = d.timeoutMs ?? 15_000
    this.#timeoutMs = timeoutMs
    const sending = {
      timeoutMs,
      // As many as attempts may be in flight: subscriptions that share a host (every
      // Zapier hook, say) must not queue behind a hung one for a connection.
      connectionsPerOrigin: d.connectionsPerOrigin ?? d.concurrency ?? 256,
    }
    this.#sqlite = sqliteFile(store)
    this.#sender =
      (d.sendThread ?? availableParallelism() > 1)
        ? new ThreadedSender({
            ...sending,
            policy: {
              allowPrivateTargets: d.allowPrivateTargets,
              allowedTargets: d.allowedTargets,
              httpsOnly: d.httpsOnly,
            },
          })
        : new InProcessSender({ ...sending, userAgent: USER_AGENT, policy: this.targetPolicy })
    this.#dispatcher = new Dispatcher({
      store,
      sender: this.#sender,
      clock: this.clock,
      logger: this.logger,
      emitter: this.#emitter,
      policy: {
        schedule: d.retrySchedule ?? DEFAULT_RETRY_SCHEDULE,
        retryAfterMaxMs: d.retryAfterMaxMs ?? 3_600_000,
        ...(options.random ? { random: options.random } : {}),
      },
      concurrency: d.concurrency ?? 256,
      perSubscriptionConcurrency: d.perSubscriptionConcurrency ?? 16,
      leaseMs: d.leaseMs ?? Math.max(120_000, timeoutMs * 4),
      deep: DEEP_QUEUE,
      ...(store.capabilities.multiProcess ? { deepWhile: () => store.alone?.() === true } : {}),
      pollIntervalMs: d.pollIntervalMs ?? 1000,
      onRecorded: (results, health) => this.#afterAttempts(results, health),
      onRoom: () => this.#consumer?.roomFreed(),
    })
    this.#health = { ...DEFAULT_HEALTH_POLICY, ...d.health }
    this.#retentionMs = d.retentionMs ?? 30 * 86_400_000
  }

  /** Reports failing and recovered subscriptions, and disables those failing too long. */
  async #afterAttempts(
    results: readonly AttemptResult[],
    health: readonly HealthChange[],
  ): Promise<void> {
    const now = this.clock.now()
    for (const r of results)
      if (r.subscriptionAction) await this.trigger(OPERATIONAL_EVENTS.disabled, r.subscriptionId)
    for (const change of health) {
      for (const verdict of assessHealth(change, now, this.#health)) {
        if (verdict.kind === 'disable') {
          await this.store.updateSubscription(
            change.subscriptionId,
            { status: 'disabled', disabledReason: verdict.reason },
            now,
          )
          this.logger.warn(
            { subscription: change.subscriptionId, reason: verdict.reason },
            'subscription:disabled',
          )
        }
        const event =
          verdict.kind === 'disable'
            ? OPERATIONAL_EVENTS.disabled
            : OPERATIONAL_EVENTS[verdict.kind]
        await this.trigger(event, change.subscriptionId)
      }
    }
  }

  /** Delivers the event's sample to one subscription now; resolves with the attempt. */
  async sendTest(subscriptionId: string) {
    const sub = await this.subscriptions.get(subscriptionId)
    const { definition } = this.catalog.get(sub.event)
    const now = this.clock.now()
    const deliveryId = newId('dlv', now)
    const message = newMessage(sub.event, null, definition.sample ?? {}, now, {
      onlySubscriptionId: sub.id,
    })
    await this.store.insertMessages([{ ...message, onlyDeliveryId: deliveryId }])
    const job = await this.store.claimDelivery(deliveryId, now, 60_000)
    if (job) {
      const result = await this.#dispatcher.attemptNow(job)
      return { ...(await this.getDelivery(deliveryId)), result }
    }
    // Another Hookline process on the same database claimed it first: wait for its attempt.
    const giveUpAt = Date.now() + this.#timeoutMs + 5000
    for (;;) {
      const delivery = await this.getDelivery(deliveryId)
      if (delivery.attemptLog.length > 0 || Date.now() > giveUpAt)
        return { ...delivery, result: null }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }

  /** Changes set aside because their tracking handler or payload builder failed, oldest first. */
  failedChanges(limit = 100) {
    return this.store.listFailedChanges(limit)
  }

  /** Puts set-aside changes (these, or all) back in the log, e.g. once the handler is fixed. */
  async retryFailedChanges(ids?: readonly number[]): Promise<number> {
    const n = await this.store.retryFailedChanges(ids)
    this.#consumer?.nudge()
    return n
  }

  /** Makes a subscription's failed, dead and cancelled deliveries since `since` due again. */
  async recover(subscriptionId: string, since: number): Promise<number> {
    await this.subscriptions.get(subscriptionId)
    const n = await this.store.recoverDeliveries(subscriptionId, since, this.clock.now())
    this.#dispatcher.nudge()
    return n
  }

  /** Deletes finished messages older than the retention period. Returns how many. */
  async prune(): Promise<number> {
    const n = await this.store.prune(this.clock.now() - this.#retentionMs)
    if (n > 0) this.logger.info({ messages: n }, 'retention:pruned')
    return n
  }

  /** Migrates, creates the app's tables if `initSql` says so, checks the project, installs capture. */
  async init(): Promise<void> {
    if (this.#plan) return
    const { store, options } = this
    await store.migrate()
    const sources = toSources(options.tracking, (table, definition) => ({ table, definition }))
    const bindings = options.bindings ?? []
    if (options.initSql) {
      const tables = [...new Set([...sources.map((s) => s.table), ...bindings.map((b) => b.table)])]
      const present = await Promise.all(tables.map((t) => store.tableExists(t)))
      if (!present.some(Boolean)) await store.exec(options.initSql)
    }
    for (const entry of this.catalog.list()) {
      const table = entry.definition.table
      if (table && !(await store.tableExists(table)))
        throw new ConfigError(
          `${entry.file ?? `event '${entry.name}'`} names table '${table}', which does not exist in the database: fix the table name`,
        )
    }
    this.#plan = await TrackingPlan.create({
      catalog: this.catalog,
      sources,
      bindings,
      tableExists: (t) => store.tableExists(t),
    })
    const c = options.capture ?? {}
    await store.installCapture(this.#plan.tables, { notify: c.notify === true })
    this.#consumer = new ChangeConsumer({
      store,
      catalog: this.catalog,
      plan: this.#plan,
      clock: this.clock,
      logger: this.logger,
      emitter: this.#emitter,
      batchSize: c.batchSize ?? 500,
      pollIntervalMs: c.pollIntervalMs ?? 25,
      announced: c.notify === true && !!store.onNotify,
      leaseOffer: () => this.#dispatcher.leaseOffer(),
      // A process that delivers alone (SQLite always, PostgreSQL while no other Hookline
      // process runs on it) keeps pace in capture with its sending, so that new deliveries
      // are leased as they are made instead of waiting for a claim. Where others share the
      // work, they claim what this one leaves.
      pace: ({ subscriptions, perChange }: StepFanOut) =>
        !store.capabilities.multiProcess || store.alone?.() === true
          ? this.#dispatcher.intake(subscriptions, perChange)
          : Number.POSITIVE_INFINITY,
      onDeliveries: (leased, made) =>
        void this.#dispatcher.accept(leased, made).catch((error) => {
          this.logger.error({ err: error }, 'delivery:error')
          this.#emitter.emit('delivery:error', error)
        }),
    })
  }

  /** The tables whose changes are captured. */
  get trackedTables(): string[] {
    return this.#plan?.tables ?? []
  }

  /** Starts capture and delivery in the background. Idempotent. */
  async start(): Promise<void> {
    await this.init()
    if (this.#started) return
    this.#started = true
    // One delivery process per SQLite file: leases left by a crashed run are ours to end.
    // (Here, not in init(): a CLI command on the same file must not free a live server's.)
    if (!this.store.capabilities.multiProcess) await this.store.releaseLeases()
    const sqlite = this.#sqlite
    if (sqlite) {
      // data_version moves only when another connection commits: Hookline's own writes,
      // which touch the WAL file too, wake nobody.
      let seen = sqlite.dataVersion()
      this.#unwatch = watchSqliteWal(sqlite.filename, () => {
        const version = sqlite.dataVersion()
        if (version === seen) return
        seen = version
        this.#consumer?.nudge()
        this.#dispatcher.wake()
      })
    }
    // Other Hookline processes on the same database announce the deliveries they add.
    else if (this.store.onNotify)
      this.#unwatch = this.store.onNotify(() => {
        this.#consumer?.nudge()
        this.#dispatcher.nudge()
      })
    this.#consumer!.start()
    // The sending thread takes a few hundred ms to load: start it now, not at the first
    // delivery. Where it runs (more than one core), a thread of its own checkpoints the
    // SQLite WAL, and this connection only if that thread falls behind or is gone.
    if (this.#sender instanceof ThreadedSender)
      await Promise.all([this.#sender.start(), sqlite && this.#startCheckpoints(sqlite)])
    this.#dispatcher.start()
    const prune = () =>
      this.prune().catch((error) => this.logger.error({ err: error }, 'retention:error'))
    void prune()
    this.#pruneTimer = setInterval(prune, 3_600_000).unref()
    this.logger.info(
      { database: this.store.description, tables: this.trackedTables },
      'hookline:started',
    )
  }

  async #startCheckpoints(sqlite: SqliteStore): Promise<void> {
    const failed = (error: Error) =>
      this.logger.warn({ reason: error.message }, 'sqlite:checkpoint-thread-failed')
    try {
      this.#checkpoints = await CheckpointThread.start(
        sqlite.filename,
        CHECKPOINT_INTERVAL_MS,
        failed,
      )
      sqlite.walAutoCheckpoint(SAFETY_AUTOCHECKPOINT_PAGES)
    } catch (error) {
      failed(asError(error))
    }
  }

  /** Stops capture and delivery, waits for attempts in flight, closes the store. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#pruneTimer) clearInterval(this.#pruneTimer)
      this.#pruneTimer = null
      this.#unwatch?.()
      this.#unwatch = null
      await this.#consumer?.stop()
      await this.#dispatcher.stop()
      await this.#sender.close()
      await this.#checkpoints?.stop()
      this.#checkpoints = null
      await this.store.close()
      this.#started = false
    })()
    return this.#stopping
  }

  /** Processes every pending change and delivers everything due now. */
  async drain(): Promise<void> {
    await this.init()
    do {
      await this.#consumer!.drain()
      await this.#dispatcher.drain()
    } while ((await this.store.countPendingChanges()) > 0)
  }

  /** Fires an event from application code, as a tracking handler would. Returns the message id. */
  async trigger(event: string, rowId: RowId | null = null, data?: unknown): Promise<string> {
    const { definition } = this.catalog.get(event)
    const payload =
      data !== undefined
        ? data
        : rowId === null
          ? definition.sample
          : await definition.build({ rowId, db: this.store.db, change: null })
    if (payload === undefined)
      throw new ValidationError(
        'missing_row_id',
        `event '${event}' has no sample: give a row id to build its data from`,
      )
    const message = newMessage(event, rowId, payload, this.clock.now())
    await this.store.insertMessages([message])
    this.#dispatcher.nudge()
    return message.id
  }

  /** Sample envelopes for REST Hooks perform-list, newest first. */
  performList(event: string, limit: number) {
    return performList(this.catalog.get(event), this.store, limit, this.clock.now())
  }

  listDeliveries(filter: Omit<Partial<DeliveryFilter>, 'status'> & { status?: string }) {
    if (
      filter.status !== undefined &&
      !Object.values(DELIVERY_STATES).includes(filter.status as DeliveryState)
    )
      throw new ValidationError(
        'invalid_status',
        `status '${filter.status}' is not a delivery status: use one of ${Object.values(DELIVERY_STATES).join(', ')}`,
      )
    return this.store.listDeliveries({
      ...filter,
      status: filter.status as DeliveryState | undefined,
      limit: filter.limit ?? 100,
    })
  }

  async getDelivery(id: string) {
    const d = await this.store.getDelivery(id)
    if (!d) throw new NotFoundError('delivery_not_found', `no delivery has id '${id}'`)
    return d
  }

  async retryDelivery(id: string) {
    const r = await this.store.retryDelivery(id, this.clock.now())
    if (!r) throw new NotFoundError('delivery_not_found', `no delivery has id '${id}'`)
    if (!r.retried)
      throw new HooklineError(
        'delivery_in_flight',
        `delivery '${id}' is being attempted right now: retry it once this attempt is recorded`,
      )
    this.#dispatcher.nudge()
    return r.delivery
  }

  on<K extends keyof HooklineEventMap>(
    event: K,
    listener: (...args: HooklineEventMap[K]) => void,
  ): this {
    this.#emitter.on(event, listener as any)
    return this
  }

  off<K extends keyof HooklineEventMap>(
    event: K,
    listener: (...args: HooklineEventMap[K]) => void,
  ): this {
    this.#emitter.off(event, listener as any)
    return this
  }
}
