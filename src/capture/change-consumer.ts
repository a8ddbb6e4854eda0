import type { Logger } from 'pino'
import type { Clock } from '../clock.ts'
import { asError } from '../errors.ts'
import { type BuildItem, type Built, buildPayloads } from '../events/build-payloads.ts'
import { changeMessageId, newMessage } from '../events/envelope.ts'
import type { EventCatalog } from '../events/event-catalog.ts'
import type { HooklineEmitter } from '../hookline-events.ts'
import type { Store } from '../storage/store.ts'
import { isTransientError } from '../storage/transient-error.ts'
import type { Change, ChangeWait, DeliveryJob, LeaseOffer, NewMessage } from '../storage/types.ts'
import type { TrackingPlan, Triggered } from '../tracking/tracking-plan.ts'
import { ArrivalRate } from './arrival-rate.ts'
import { WorkLoop } from './work-loop.ts'

export interface ChangeConsumerOptions {
  readonly store: Store
  readonly catalog: EventCatalog
  readonly plan: TrackingPlan
  readonly clock: Clock
  readonly logger: Logger
  readonly emitter: HooklineEmitter
  /** Changes read and committed together. */
  readonly batchSize: number
  /** Longest sleep between looks at the change log. */
  readonly pollIntervalMs: number
  /**
   * Every commit to a tracked table wakes capture (`nudge`: PostgreSQL's `capture.notify`),
   * so an idle log is looked at only every `pollIntervalMs`, as a fallback.
   */
  readonly announced?: boolean
  /** What the dispatcher can take at once, offered to the outbox step (`LeaseOffer`). */
  readonly leaseOffer?: () => LeaseOffer | null
  /** Called after a batch produced deliveries, with those leased to this process. */
  readonly onDeliveries: (leased: readonly DeliveryJob[], made: number) => void
  /**
   * Where this process alone delivers: how many changes the next step should take, given
   * the last step's fan-out (`Dispatcher.intake`); 0 holds the step back until `roomFreed`
   * (asked again every `HOLD_RECHECK_MS`). Capture runs paced for `MAX_PACED_MS` at most,
   * then in whole batches until it has read the log to its end.
   */
  readonly pace?: (last: StepFanOut) => number
}

/** The subscriptions a step made deliveries for, and how many it made a change. */
export interface StepFanOut {
  readonly subscriptions: readonly string[]
  readonly perChange: number
}

const MIN_POLL_MS = 2
/**
 * How long capture may run paced (`pace`) before it reads the log to its end in whole
 * batches: the deliveries wait as changes instead of rows to claim meanwhile, and a burst
 * of one event must not hold back the changes behind it for longer.
 */
const MAX_PACED_MS = 1000
/** How often a held step asks the pace again, if no `roomFreed` came. */
const HOLD_RECHECK_MS = 20
/**
 * Longest wait of one read in the database (`Store.waitForChanges`): a stop waits for the
 * read in progress.
 */
const MAX_WAIT_IN_STORE_MS = 250
/**
 * Above this rate of changes (a second, smoothed over `RATE_WINDOW_MS`), a read that found
 * fewer changes than it asked for is followed by a sleep (`#linger`) rather than a read
 * that waits in the database.
 */
const LINGER_ABOVE_PER_S = 2000
/** Longest sleep of `#linger`: what it adds to a delivery's latency at such rates. */
const LINGER_MAX_MS = 10
/**
 * How far back the smoothed rate of changes looks: long enough that a writer's burst (a
 * hundred rows at once after a stall) does not start lingering at a moderate rate.
 */
const RATE_WINDOW_MS = 250
/** How often a process that does not hold the consumer lock asks for it again. */
const STANDBY_POLL_MS = 1000

/**
 * Reads the change log in order, runs each change through its table's tracking handler,
 * builds the fired events' payloads, and commits messages, deliveries and the changes'
 * consumed mark in one transaction.
 */
export class ChangeConsumer {
  readonly #loop: WorkLoop
  #lastChangesAt = Number.NEGATIVE_INFINITY
  /** Another process consumes the change log (shared stores). */
  #standby = false
  /** The last step's fan-out, when it made deliveries (`pace`). */
  #fanOut: StepFanOut | null = null
  /** Since when steps have been paced without reading the log to its end. */
  #pacedSince: number | null = null
  /** The next step waits for the sender (`pace`). */
  #holding = false
  /** The next read waits in the database for the first change (`Store.waitForChanges`). */
  #waitInStore = false
  /** Changes consumed a second (`#linger`). */
  readonly #rate = new ArrivalRate(RATE_WINDOW_MS, performance.now())

  constructor(private readonly o: ChangeConsumerOptions) {
    this.#loop = new WorkLoop(
      async () => {
        const take = this.#intake()
        if (typeof take === 'object') return take.wait
        const consumed = await this.#runOnce(take, this.#waitInStore ? this.#changeWait() : null)
        const wait = this.#nextWait(consumed, take)
        // The next read waits in the database for the first change instead of a sleep here.
        this.#waitInStore =
          wait > 0 && !this.#standby && !this.o.announced && !!this.o.store.waitForChanges
        if (!this.#waitInStore) return wait
        return consumed > 0 ? this.#linger(take) : 0
      },
      (error) => {
        o.logger.error({ err: error }, 'capture:error')
        o.emitter.emit('capture:error', error)
      },
      o.pollIntervalMs,
    )
  }

  start(): void {
    this.#loop.start()
  }

  /**
   * An adaptive poll: look again after a tenth of the time since changes last came (at
   * least 2 ms, at most `pollIntervalMs`). Writes come in runs, so right after some the
   * next look is soon; after a pause of the writers (a slow commit, a busy machine) the
   * first change after it waits at most a tenth of the pause; an idle log is looked at
   * every `pollIntervalMs`. It keeps latency low where nothing announces new changes (a
   * PostgreSQL capture trigger sends no NOTIFY, to spare the writers). A store that waits
   * for changes itself (`waitForChanges`) does the looking instead, more often and without
   * a round trip each (`ChangeWait`); where commits are announced (`announced`), only the
   * fallback poll is left.
   */
  #nextWait(consumed: number, asked: number): number {
    const now = performance.now()
    this.#rate.observe(consumed, now)
    if (consumed > 0) this.#lastChangesAt = now
    if (consumed >= asked) return 0
    // The log is read to its end: pacing may start afresh.
    this.#pacedSince = null
    if (this.#standby) return Math.max(this.o.pollIntervalMs, STANDBY_POLL_MS)
    if (this.o.announced) return this.o.pollIntervalMs
    return Math.min(this.o.pollIntervalMs, Math.max(MIN_POLL_MS, (now - this.#lastChangesAt) / 10))
  }

  /**
   * How long to sleep, after a read that found some changes but fewer than it asked for,
   * before a read that waits in the database: while changes come faster
   * than `LINGER_ABOVE_PER_S`, the time the rate takes to fill the batch (at most
   * `LINGER_MAX_MS`), so each step takes more changes at once; otherwise none. Each step
   * costs the database a read, the payload builders' queries and an outbox transaction
   * whatever its size, and the database shares its CPU with the writers: at such rates
   * fewer, larger steps leave the writers more of it. Below that rate nothing sleeps: a
   * change is read within a millisecond or so of its commit.
   */
  #linger(asked: number): number {
    const rate = this.#rate.perSecond
    return rate < LINGER_ABOVE_PER_S ? 0 : Math.min(LINGER_MAX_MS, (asked * 1000) / rate)
  }

  /** How a read waits in the database: by the quiet time so far, within `pollIntervalMs`. */
  #changeWait(): ChangeWait {
    const { pollIntervalMs } = this.o
    return {
      ms: Math.min(pollIntervalMs, MAX_WAIT_IN_STORE_MS),
      quietMs: Math.min(performance.now() - this.#lastChangesAt, 3_600_000),
      everyMaxMs: pollIntervalMs,
    }
  }

  /**
   * How many changes the next step takes: a batch, or what `pace` lets through; or how long
   * to wait for the sender first.
   */
  #intake(): number | { wait: number } {
    this.#holding = false
    const { batchSize } = this.o
    if (!this.#fanOut || !this.o.pace) return batchSize
    const now = performance.now()
    if (this.#pacedSince !== null && now - this.#pacedSince >= MAX_PACED_MS) return batchSize
    const paced = this.o.pace(this.#fanOut)
    if (paced >= batchSize) return batchSize
    this.#pacedSince ??= now
    if (paced > 0) return paced
    this.#holding = true
    return { wait: Math.min(HOLD_RECHECK_MS, MAX_PACED_MS - (now - this.#pacedSince)) }
  }

  /** Attempts ended: a step that waits for the sender looks again. */
  roomFreed(): void {
    if (this.#holding) this.#loop.nudge()
  }

  stop(): Promise<void> {
    return this.#loop.stop()
  }

  /** The change log may have grown (a WAL write, a notification): look now. */
  nudge(): void {
    this.#loop.nudge()
  }

  /** Processes one batch (of `limit` changes at most); returns how many it consumed or set aside. */
  runOnce(limit = this.o.batchSize): Promise<number> {
    return this.#runOnce(limit, null)
  }

  /** `runOnce`, its read waiting in the database for the first change when `wait` is given. */
  async #runOnce(limit: number, wait: ChangeWait | null): Promise<number> {
    // Stores shared by several processes consume with one process at a time; the others
    // ask again every second and take over when the holder is gone.
    const { store } = this.o
    this.#standby = !!store.acquireChangeConsumerLock && !(await store.acquireChangeConsumerLock())
    if (this.#standby) return 0
    const changes = await (wait && store.waitForChanges
      ? store.waitForChanges(limit, wait)
      : store.readChanges(limit))
    if (changes.length === 0) return 0
    const seed = (await store.changeMessageSeed?.()) ?? null
    const results = await this.#build(await Promise.all(changes.map((c) => this.#track(c))), seed)
    // The database was briefly away: redo the whole batch later rather than set aside
    // changes that have nothing wrong with them.
    const transient = results.find((r) => r instanceof Error && isTransientError(r))
    if (transient) throw transient
    const consumed: number[] = []
    const messages: NewMessage[] = []
    for (const [i, result] of results.entries()) {
      const change = changes[i]!
      if (result instanceof Error) {
        // Set aside, so one bad row does not hold back every later change.
        await this.o.store.failChange(change.id, result.message)
        this.o.logger.error(
          { err: result, change: { id: change.id, table: change.table, rowId: change.rowId } },
          'change:failed',
        )
        this.o.emitter.emit('change:failed', { change, error: result })
        continue
      }
      consumed.push(change.id)
      messages.push(...result)
    }
    const { deliveries, leased, subscriptions } = await this.o.store.commitChanges(
      consumed,
      messages,
      messages.length > 0 ? this.o.leaseOffer?.() : null,
    )
    this.#fanOut =
      deliveries > 0 && subscriptions && consumed.length > 0
        ? { subscriptions, perChange: Math.ceil(deliveries / consumed.length) }
        : null
    this.o.emitter.emit('change:processed', {
      changes: consumed.length,
      messages: messages.length,
      deliveries,
    })
    if (deliveries > 0) this.o.onDeliveries(leased, deliveries)
    return changes.length
  }

  /** Runs batches until the change log is empty. */
  async drain(): Promise<void> {
    while ((await this.runOnce()) > 0) {}
  }

  /** The events a change fires, by its table's tracking handler. */
  async #track(change: Change): Promise<{ change: Change; fired: Triggered[] } | Error> {
    try {
      return { change, fired: await this.o.plan.run(change) }
    } catch (error) {
      return asError(error)
    }
  }

  /**
   * Builds the data of every event the batch fired, one `buildPayloads` per event (so an
   * event with `buildMany` makes one query for the whole batch); per change, its messages
   * in the order its handler fired them, or the first error among them. With a `seed`,
   * each message's id derives from its change (`changeMessageId`).
   */
  async #build(
    tracked: readonly ({ change: Change; fired: Triggered[] } | Error)[],
    seed: string | null,
  ): Promise<(NewMessage[] | Error)[]> {
    const now = this.o.clock.now()
    const out: (NewMessage[] | Error)[] = tracked.map((t) =>
      t instanceof Error ? t : new Array<NewMessage>(t.fired.length),
    )
    const byEvent = new Map<string, (BuildItem & { change: Change; at: [number, number] })[]>()
    for (const [i, t] of tracked.entries()) {
      if (t instanceof Error) continue
      for (const [j, { event, rowId }] of t.fired.entries()) {
        const items = byEvent.get(event) ?? []
        items.push({ rowId, change: t.change, at: [i, j] })
        byEvent.set(event, items)
      }
    }
    await Promise.all(
      [...byEvent].map(async ([event, items]) => {
        let built: Built[]
        try {
          const { definition } = this.o.catalog.get(event)
          built = await buildPayloads(definition, items, this.o.store.db, (error) =>
            this.o.logger.warn({ err: error, event }, 'event:build-many-failed'),
          )
        } catch (error) {
          built = items.map(() => ({
            error: asError(error),
          }))
        }
        for (const [k, b] of built.entries()) {
          const {
            rowId,
            change,
            at: [i, j],
          } = items[k]!
          const messages = out[i]!
          if (messages instanceof Error) continue
          if ('error' in b) out[i] = b.error
          else
            messages[j] = newMessage(event, rowId, b.data, now, {
              ...(seed !== null ? { id: changeMessageId(seed, change, j, event) } : {}),
            })
        }
      }),
    )
    return out
  }
}
