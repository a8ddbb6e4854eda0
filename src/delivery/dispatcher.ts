import type { Logger } from 'pino'
import { WorkLoop } from '../capture/work-loop.ts'
import type { Clock } from '../clock.ts'
import type { HooklineEmitter } from '../hookline-events.ts'
import { roomFor } from '../storage/claim-offers.ts'
import { DELIVERY_STATES as D, SUBSCRIPTION_STATES as S } from '../storage/states.ts'
import type { Store } from '../storage/store.ts'
import type {
  AttemptResult,
  ClaimHold,
  DeliveryJob,
  HealthChange,
  LeaseOffer,
} from '../storage/types.ts'
import { DeepQueue } from './deep-queue.ts'
import type { HttpSender } from './http-sender.ts'
import { decideOutcome, type OutcomePolicy } from './outcome.ts'

/** Attempts are written at most this long after they end… */
const RECORD_DELAY_MS = 5
/** …or at once when this many wait. */
const RECORD_BATCH = 256
/**
 * Rounds of its slots a subscription may hold: one in flight and two queued. Over all
 * subscriptions, a round of the global slots may wait queued besides those in flight, so
 * that the next claim's round trip overlaps the sending rather than following it.
 */
const ROUNDS = 3
/**
 * Subscriptions none of whose attempts started or ended for this long are hung, not busy:
 * capture does not wait for them (`intake`).
 */
const QUIET_MS = 100
/** How often the deep queue (`deep`) is checked for subscriptions no longer active. */
const DEEP_CHECK_MS = 500

export interface DispatcherOptions {
  readonly store: Store
  readonly sender: Pick<HttpSender, 'send'>
  readonly clock: Clock
  readonly logger: Logger
  readonly emitter: HooklineEmitter
  readonly policy: OutcomePolicy
  /** Attempts in flight at once, over all subscriptions. */
  readonly concurrency: number
  /** Attempts in flight at once to one subscription, unless it set its own `maxConcurrency`. */
  readonly perSubscriptionConcurrency: number
  /** How long a claimed delivery stays reserved for this process. */
  readonly leaseMs: number
  /**
   * Deliveries an outbox step may lease to this process beyond its slots and queues (the
   * deep queue, in memory), for subscriptions that are sending: when capture reads a burst
   * in whole batches, its deliveries go from the step to the sending without a claim.
   * Default 0.
   */
  readonly deep?: number
  /**
   * Whether the deep queue may take more now (default: always): only while no other
   * process shares the work, since what one holds, the others cannot send.
   */
  readonly deepWhile?: () => boolean
  /** Longest sleep when nothing is due (other processes may add work). */
  readonly pollIntervalMs: number
  /**
   * Called when attempts that end leave room for an outbox step (`intake`): a subscription
   * has a round of its slots free again, or a quarter of a round is free over all.
   */
  readonly onRoom?: () => void
  /** Called once a batch of attempts is written, with how each subscription's health moved. */
  readonly onRecorded?: (
    results: readonly AttemptResult[],
    health: readonly HealthChange[],
  ) => Promise<void>
}

/**
 * Claims due deliveries in batches, sends them concurrently within the global and
 * per-subscription limits, and writes the attempts back in batches.
 *
 * Isolation: a subscription holds at most `perSubscriptionConcurrency` slots and a short
 * queue of its own; once both are full it is left out of claims, and anything claimed
 * beyond them is handed back at once, so a slow or dead endpoint never delays the others.
 * A slot that ends goes to its subscription's next queued delivery, else to the
 * subscription that has waited longest for a global slot.
 */
export class Dispatcher {
  #inFlight = 0
  readonly #perSubscription = new Map<string, number>()
  #results: AttemptResult[] = []
  #flushing: Promise<void> | null = null
  #idle: (() => void)[] = []
  /**
   * Claimed deliveries waiting for a slot, a few per subscription: the next attempt starts
   * as soon as one ends, without a claim.
   */
  readonly #ready = new Map<string, DeliveryJob[]>()
  #queued = 0
  /**
   * Leased by outbox steps beyond each subscription's queue (`deep`), sendable from here
   * while half their lease is left: it refills the queue as the queue empties.
   */
  readonly #deep: DeepQueue
  /** Checks the deep queue every `DEEP_CHECK_MS` while it holds anything. */
  #deepTimer: NodeJS.Timeout | null = null
  /** Subscriptions with queued deliveries and a free slot of their own, oldest first. */
  readonly #waitingForSlot = new Set<string>()
  /** The limits of subscriptions that set their own, as their claimed jobs said. */
  readonly #limits = new Map<string, number>()
  #running = false
  #stopping = false
  /**
   * The last claim came back short: of the subscriptions it asked, only those in
   * `#behind` (left out, or given their whole limit) may still have due work in the store.
   */
  #caughtUp = false
  readonly #behind = new Set<string>()
  /** Moves when an outbox step leaves deliveries to claims (`accept`). */
  #epoch = 0
  /** New work was announced (`nudge`) since the last claim began. */
  #announced = false
  /**
   * When the retries this process scheduled fall due, earliest and latest, until a claim
   * that asked every subscription came back short after the latest.
   */
  #retries: { from: number; until: number } | null = null
  /** Attempts of strictly ordered subscriptions that ended and wait to be recorded. */
  readonly #strictEnded = new Set<string>()
  /** When an attempt of each subscription last started or ended (performance.now()). */
  readonly #activeAt = new Map<string, number>()
  /** Stopped without recording everything: stop retrying the write. */
  #abandoned = false
  #claimSize: number
  readonly #loop: WorkLoop

  constructor(private readonly o: DispatcherOptions) {
    this.#claimSize = o.concurrency
    this.#deep = new DeepQueue(o.deep ?? 0)
    this.#loop = new WorkLoop(
      () => this.#step(),
      (error) => {
        o.logger.error({ err: error }, 'delivery:error')
        o.emitter.emit('delivery:error', error)
      },
      o.pollIntervalMs,
    )
  }

  start(): void {
    this.#running = true
    this.#loop.start()
  }

  /** Stops claiming, hands back what waits unsent, waits for the attempts in flight, and records them. */
  async stop(): Promise<void> {
    this.#stopping = true
    this.#running = false
    await this.#loop.stop()
    const unsent = [...this.#ready.values()].flat().map((job) => job.id)
    for (const sub of this.#deep.subscriptions()) unsent.push(...this.#deep.drop(sub))
    this.#watchDeep()
    this.#ready.clear()
    this.#waitingForSlot.clear()
    this.#queued = 0
    if (unsent.length > 0) await this.o.store.releaseDeliveries(unsent).catch(() => {})
    await this.#whenIdle()
    // With the database gone, recording could wait forever: give up after a lease's time.
    // The unrecorded attempts' leases run out and they are sent again (at least once).
    let timer: NodeJS.Timeout | undefined
    const gaveUp = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.o.leaseMs)
      }),
    ])
    clearTimeout(timer)
    if (gaveUp) {
      this.#abandoned = true
      this.o.logger.error({ attempts: this.#results.length }, 'delivery:unrecorded-at-stop')
    }
  }

  /** New deliveries may be due: look now rather than at the next poll. */
  nudge(): void {
    this.#announced = true
    this.#loop.nudge()
  }

  /**
   * Another connection wrote the database (most often the application, whose changes
   * capture takes): look now, without taking it for news of due work.
   */
  wake(): void {
    this.#loop.nudge()
  }

  /** Delivers everything due now and records it (tests, shutdown). */
  async drain(): Promise<void> {
    for (;;) {
      const { taken, full } = await this.fill()
      await this.#whenIdle()
      await this.flush()
      if (taken === 0 && !full) return
    }
  }

  /**
   * Claims due deliveries for the free slots and a round of queue behind them, and starts
   * or queues them; `more` when the claim came back full and all of it was taken, so more
   * may be waiting. Under load it waits until a quarter of a round has room, so that
   * claims come in batches rather than one query per finished attempt (`full`: it did not
   * look).
   */
  async fill(): Promise<{ taken: number; more: boolean; full?: boolean }> {
    const room = this.#room()
    if (room <= 0 || (this.#inFlight > 0 && room < this.o.concurrency / 4))
      return { taken: 0, more: false, full: true }
    const limit = Math.min(room, this.#claimSize)
    const hold = this.#hold()
    const saturated = this.#saturated(hold)
    const epoch = this.#epoch
    const announced = this.#announced
    this.#announced = false
    const now = this.o.clock.now()
    const jobs = await this.o.store.claimDeliveries(
      now,
      limit,
      this.o.leaseMs,
      saturated,
      this.o.perSubscriptionConcurrency,
      hold,
    )
    this.#noteClaim(jobs, now, limit, saturated, epoch, hold, announced)
    const handBack = this.#take(jobs)
    for (const job of handBack) this.#behind.add(job.subscriptionId)
    if (handBack.length > 0) await this.o.store.releaseDeliveries(handBack.map((job) => job.id))
    const taken = jobs.length - handBack.length
    // When most of a claim came back (the due work sits with few subscriptions), claim
    // less next time; when all of it was used, claim more. Big claims that are mostly
    // handed back cost a write each and starve nobody, but they waste the store's time.
    this.#claimSize =
      handBack.length > 0
        ? Math.max(1, taken * 2)
        : Math.min(this.o.concurrency * 2, this.#claimSize * 2)
    return { taken, more: jobs.length === limit && taken === jobs.length }
  }

  /** How many more deliveries this process may hold: the slots and a round queued. */
  #room(): number {
    return 2 * this.o.concurrency - this.#inFlight - this.#queued
  }

  /**
   * What the outbox step may lease to this process as it creates deliveries (its room: the
   * free slots and a round queued behind them, as a claim takes), sparing their claim; a
   * round of each subscription's slots at most, and none for those without room for one.
   * Earlier due work in the store goes first, by claims, oldest first: no offer after a
   * claim that came back full or while an outbox step's leftovers wait, and none for a
   * subscription that may still have some (`#behind`). Beyond that, the deep queue's room
   * for the subscriptions that are sending (`#deepOffer`).
   */
  leaseOffer(): LeaseOffer | null {
    const room = this.#room()
    const deep = this.#deepOffer()
    if (!this.#running || !this.#caughtUp || (room <= 0 && !deep)) return null
    return {
      now: this.o.clock.now(),
      limit: Math.max(0, room),
      leaseMs: this.o.leaseMs,
      exclude: [...this.#leftOut(this.#hold())],
      perSubscription: this.o.perSubscriptionConcurrency,
      ...(deep ? { deep } : {}),
    }
  }

  /**
   * The deep queue's room (`deep`), for the subscriptions sending now (an attempt of theirs
   * started or ended within `QUIET_MS`: not hung) that have no older work in the store.
   */
  #deepOffer(): LeaseOffer['deep'] {
    const limit = this.#deep.room
    if (limit <= 0 || this.o.deepWhile?.() === false) return undefined
    const now = performance.now()
    const to = new Set<string>()
    for (const [id, at] of this.#activeAt)
      if (now - at < QUIET_MS && !this.#behind.has(id)) to.add(id)
    return to.size > 0 ? { limit, to } : undefined
  }

  /**
   * How many changes the next outbox step should take, for all the deliveries it makes to
   * `subscriptions` (those of the last step, `perChange` deliveries a change) to be leased
   * to this process (`leaseOffer`): the room of those it may lease to (a round of each
   * one's slots at most), within the global room. 0 while that is less than a change's
   * deliveries (unless a change makes more than leases can ever reach) or a quarter of a
   * round (all their slots, if fewer), or while it may lease to none of them, as long as
   * their attempts keep starting or ending: the step had better wait for them (`onRoom`)
   * than leave its deliveries to claims. A sender that is not sending, or hung on those
   * targets, paces nothing.
   */
  intake(subscriptions: readonly string[], perChange: number): number {
    if (!this.#running || this.o.concurrency <= 0) return Number.POSITIVE_INFINITY
    const now = performance.now()
    const excluded = this.#leftOut(this.#hold())
    let busy = false
    let room = 0
    let most = 0
    for (const id of subscriptions) {
      busy ||= now - (this.#activeAt.get(id) ?? Number.NEGATIVE_INFINITY) < QUIET_MS
      if (excluded.has(id)) continue
      const limit = this.#limit(id)
      room += Math.max(0, Math.min(limit, ROUNDS * limit - this.#held(id)))
      most += limit
    }
    if (most === 0) return busy ? 0 : Number.POSITIVE_INFINITY
    room = Math.min(room, this.#room())
    most = Math.min(most, 2 * this.o.concurrency)
    const least = Math.min(Math.ceil(this.o.concurrency / 4), most)
    const need = perChange > most ? least : Math.max(perChange, least)
    if (room < need) return busy ? 0 : Number.POSITIVE_INFINITY
    return Math.max(1, Math.floor(room / perChange))
  }

  /**
   * Takes the deliveries the outbox step leased to this process (`leaseOffer`) and hands
   * back what it cannot hold; `made` deliveries were created in all, and any it did not
   * lease wait for a claim.
   */
  async accept(leased: readonly DeliveryJob[], made: number): Promise<void> {
    const until = this.o.clock.now() + this.o.leaseMs / 2
    const handBack = this.#stopping ? leased : this.#take(leased, until)
    if (made > leased.length - handBack.length) {
      this.#caughtUp = false
      this.#epoch++
      this.#loop.nudge()
    }
    if (handBack.length > 0) await this.o.store.releaseDeliveries(handBack.map((job) => job.id))
  }

  /**
   * After a claim: a claim that came back full may have left anything behind; one that
   * came back short left behind at most the subscriptions it did not ask (`exclude`) and
   * those it gave a whole limit or all their room. A claim that raced an outbox step's
   * leftovers (`epoch` moved) tells nothing.
   */
  #noteClaim(
    jobs: readonly DeliveryJob[],
    claimedAt: number,
    limit: number,
    exclude: string[],
    epoch: number,
    hold: ClaimHold,
    announced: boolean,
  ): void {
    if (epoch !== this.#epoch) return
    // What was known of the store before this claim, unless new work was announced since.
    const knew = this.#caughtUp && !announced
    this.#caughtUp = jobs.length < limit
    if (!this.#caughtUp) {
      this.#behind.clear()
      return
    }
    // A short claim that asked everyone took every retry due by then.
    if (exclude.length === 0 && this.#retries && this.#retries.until <= claimedAt)
      this.#retries = null
    // The subscriptions it left out are as they were (behind if nothing was known); those
    // it asked, only if it gave them all their room (below).
    const left = new Set(exclude)
    for (const id of this.#behind) if (!left.has(id)) this.#behind.delete(id)
    if (!knew) for (const id of exclude) this.#behind.add(id)
    const room = roomFor(this.o.perSubscriptionConcurrency, hold)
    const taken = new Map<string, number>()
    for (const job of jobs) {
      const sub = job.subscriptionId
      const n = (taken.get(sub) ?? 0) + 1
      taken.set(sub, n)
      if (n >= Math.min(this.#limit(sub), room(sub, job.maxConcurrency))) this.#behind.add(sub)
    }
  }

  /** What this process holds of each subscription, in flight or queued (a claim's `hold`). */
  #hold(): ClaimHold {
    const held = new Map(this.#perSubscription)
    for (const [id, queue] of this.#ready) held.set(id, (held.get(id) ?? 0) + queue.length)
    return { rounds: ROUNDS, held }
  }

  /**
   * Subscriptions without room for a whole round of their slots (held in flight or
   * queued): left out of claims and leases.
   */
  #saturated({ held }: ClaimHold): string[] {
    return [...held].filter(([id, n]) => n > (ROUNDS - 1) * this.#limit(id)).map(([id]) => id)
  }

  /** Subscriptions that leases leave out: saturated, or with older work in the store. */
  #leftOut(hold: ClaimHold): Set<string> {
    return new Set([...this.#saturated(hold), ...this.#behind])
  }

  #held(subscriptionId: string): number {
    return this.#inFlightOf(subscriptionId) + this.#queuedOf(subscriptionId)
  }

  /**
   * Starts or queues leased deliveries within the limits, and, given when to stop sending
   * them from here (an outbox step's leases), keeps what is left in the deep queue while
   * it has room; returns those to hand back. (A claim and an outbox step's leases may
   * arrive together for the same free slots.)
   */
  #take(jobs: readonly DeliveryJob[], deepUntil?: number): readonly DeliveryJob[] {
    const handBack: DeliveryJob[] = []
    for (const job of jobs) {
      const sub = job.subscriptionId
      if (job.maxConcurrency === null) this.#limits.delete(sub)
      else this.#limits.set(sub, job.maxConcurrency)
      const slot = this.#inFlightOf(sub) < this.#limit(sub)
      if (slot && this.#inFlight < this.o.concurrency) this.#start(job)
      else if (this.#queuedOf(sub) < this.#queueCap(sub)) {
        this.#enqueue(job)
        if (slot) this.#waitingForSlot.add(sub)
      } else if (deepUntil === undefined || !this.#deep.push(job, deepUntil)) handBack.push(job)
    }
    this.#watchDeep()
    return handBack
  }

  /**
   * Hands back deep-queued deliveries that are not to be sent from here: every one of a
   * subscription no longer active, and those whose lease is half gone (their leases are
   * still this process's).
   */
  async #checkDeep(): Promise<void> {
    const subs = this.#deep.subscriptions()
    const statuses = await Promise.all(
      subs.map((id) => this.o.store.getSubscription(id).then((s) => s?.status)),
    )
    const now = this.o.clock.now()
    const handBack: string[] = []
    for (const [i, sub] of subs.entries()) {
      const stale = statuses[i] === S.active ? this.#deep.expire(sub, now) : this.#deep.drop(sub)
      if (stale.length > 0) this.#behind.add(sub)
      handBack.push(...stale)
    }
    this.#handBack(handBack)
    this.#watchDeep()
  }

  /** Starts checking the deep queue once it holds something; stops once it is empty. */
  #watchDeep(): void {
    if (this.#deep.size > 0 && !this.#deepTimer) {
      this.#deepTimer = setInterval(() => {
        this.#checkDeep().catch((error) => this.o.logger.error({ err: error }, 'delivery:error'))
      }, DEEP_CHECK_MS)
      this.#deepTimer.unref()
    } else if (this.#deep.size === 0 && this.#deepTimer) {
      clearInterval(this.#deepTimer)
      this.#deepTimer = null
    }
  }

  /** Releases deliveries this process will not send, in the background. */
  #handBack(ids: readonly string[]): void {
    if (ids.length === 0) return
    this.o.store
      .releaseDeliveries(ids)
      .catch((error) => this.o.logger.error({ err: error }, 'delivery:error'))
  }

  /** Sends one claimed delivery now and records it; resolves with its outcome (test sends). */
  async attemptNow(job: DeliveryJob): Promise<AttemptResult> {
    const result = await this.#send(job)
    this.#results.push(result)
    await this.flush()
    return result
  }

  /** Writes the recorded attempts. Safe to call at any time. */
  async flush(): Promise<void> {
    while (this.#flushing || this.#results.length > 0) {
      if (this.#flushing) await this.#flushing
      else this.#scheduleFlush()
    }
  }

  /** One turn of the loop: claim, or say how long to sleep. */
  async #step(): Promise<number> {
    // Claim again at once only while claims come back full: otherwise the rest of the due
    // work waits for a free slot (each finished attempt nudges) or its due time.
    const { taken, more, full } = await this.fill()
    if (more) return 0
    // Attempts just started, or the slots are taken: each attempt that ends nudges the
    // loop, which looks again then.
    if (taken > 0 || full) return this.o.pollIntervalMs
    const due = await this.o.store.nextDueAt()
    const now = this.o.clock.now()
    // Due work that could not be claimed waits for a free slot (a nudge), not a busy loop.
    return due === null || due <= now
      ? this.o.pollIntervalMs
      : Math.min(due - now, this.o.pollIntervalMs)
  }

  #start(job: DeliveryJob): void {
    this.#activeAt.set(job.subscriptionId, performance.now())
    this.#inFlight++
    this.#perSubscription.set(
      job.subscriptionId,
      (this.#perSubscription.get(job.subscriptionId) ?? 0) + 1,
    )
    void this.#send(job)
      .then((result) => {
        if (result.status === D.failed && result.nextAttemptAt !== null) {
          const at = result.nextAttemptAt
          this.#retries = this.#retries
            ? { from: Math.min(this.#retries.from, at), until: Math.max(this.#retries.until, at) }
            : { from: at, until: at }
        }
        if (job.strict) this.#strictEnded.add(job.id)
        // Removed or disabled: its deliveries are cancelled as this attempt is recorded.
        if (result.subscriptionAction) this.#handBack(this.#deep.drop(job.subscriptionId))
        this.#results.push(result)
        this.#scheduleFlush()
      })
      // Not recorded: its lease runs out and it is sent again.
      .catch((error) => this.o.logger.error({ err: error, delivery: job.id }, 'delivery:error'))
      .finally(() => this.#release(job.subscriptionId))
  }

  #release(subscriptionId: string): void {
    this.#activeAt.set(subscriptionId, performance.now())
    this.#inFlight--
    const left = (this.#perSubscription.get(subscriptionId) ?? 1) - 1
    if (left === 0) this.#perSubscription.delete(subscriptionId)
    else this.#perSubscription.set(subscriptionId, left)
    // The subscription's next queued delivery takes the slot without a trip to the store,
    // else the one of the subscription that has waited longest for a slot. The loop looks
    // for more when a slot stays free, when this subscription has room for a whole round
    // again, or when a quarter of a round has room over all.
    const next = this.#stopping ? undefined : (this.#dequeue(subscriptionId) ?? this.#nextWaiting())
    if (next) this.#start(next)
    if (
      !next ||
      this.#held(subscriptionId) === (ROUNDS - 1) * this.#limit(subscriptionId) ||
      this.#room() === Math.ceil(this.o.concurrency / 4)
    ) {
      if (this.#mayFindWork()) this.#loop.nudge()
      this.o.onRoom?.()
    }
    if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve()
  }

  /**
   * Whether a claim could find due work: after one that came back full or an outbox step's
   * leftovers, after new work was announced (`nudge`), for subscriptions that may have some
   * left (`#behind`), or while retries this process scheduled fall due. Otherwise attempts that end do not claim: new work comes
   * leased by the outbox step or announced by a nudge, and the loop's poll looks anyway.
   */
  #mayFindWork(): boolean {
    return (
      !this.#caughtUp ||
      this.#announced ||
      this.#behind.size > 0 ||
      (this.#retries !== null && this.#retries.from <= this.o.clock.now())
    )
  }

  #limit(subscriptionId: string): number {
    return this.#limits.get(subscriptionId) ?? this.o.perSubscriptionConcurrency
  }

  /** A short queue of claimed deliveries per subscription, behind its slots. */
  #queueCap(subscriptionId: string): number {
    return this.#limit(subscriptionId) * (ROUNDS - 1)
  }

  #inFlightOf(subscriptionId: string): number {
    return this.#perSubscription.get(subscriptionId) ?? 0
  }

  #queuedOf(subscriptionId: string): number {
    return this.#ready.get(subscriptionId)?.length ?? 0
  }

  #enqueue(job: DeliveryJob): void {
    const queue = this.#ready.get(job.subscriptionId)
    if (queue) queue.push(job)
    else this.#ready.set(job.subscriptionId, [job])
    this.#queued++
  }

  #dequeue(subscriptionId: string): DeliveryJob | undefined {
    const queue = this.#ready.get(subscriptionId)
    const job = queue?.shift()
    if (job) {
      this.#queued--
      this.#refill(subscriptionId)
    }
    if (queue?.length === 0) {
      this.#ready.delete(subscriptionId)
      this.#waitingForSlot.delete(subscriptionId)
    }
    return job
  }

  /** Tops a subscription's queue up from its deep queue, handing back what is stale. */
  #refill(subscriptionId: string): void {
    const room = this.#queueCap(subscriptionId) - this.#queuedOf(subscriptionId)
    if (room <= 0 || this.#deep.size === 0) return
    const { jobs, stale } = this.#deep.take(subscriptionId, room, this.o.clock.now())
    for (const job of jobs) this.#enqueue(job)
    if (stale.length > 0) this.#behind.add(subscriptionId)
    this.#handBack(stale)
  }

  /** A queued delivery of the subscription that has waited longest for a global slot. */
  #nextWaiting(): DeliveryJob | undefined {
    for (const sub of this.#waitingForSlot) {
      this.#waitingForSlot.delete(sub)
      if (this.#inFlightOf(sub) >= this.#limit(sub)) continue
      const job = this.#dequeue(sub)
      if (!job) continue
      // Still a slot and a queue: back in line, behind the others.
      if (this.#queuedOf(sub) > 0 && this.#inFlightOf(sub) + 1 < this.#limit(sub))
        this.#waitingForSlot.add(sub)
      return job
    }
    return undefined
  }

  async #send(job: DeliveryJob): Promise<AttemptResult> {
    const attemptedAt = this.o.clock.now()
    const res = await this.o.sender.send(job, attemptedAt)
    return decideOutcome(job, res, attemptedAt, this.o.policy)
  }

  #whenIdle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve()
    return new Promise((resolve) => this.#idle.push(resolve))
  }

  #scheduleFlush(): void {
    if (this.#flushing) return
    // A few milliseconds' grace gathers the attempts that end meanwhile into the same write:
    // fewer, larger transactions. Nothing waits on it but the leases, which it ends.
    const gather =
      this.#results.length >= RECORD_BATCH
        ? new Promise<void>((resolve) => setImmediate(resolve))
        : new Promise<void>((resolve) => setTimeout(resolve, RECORD_DELAY_MS))
    this.#flushing = gather.then(async () => {
      const batch = this.#results
      this.#results = []
      let health: HealthChange[]
      try {
        health = await this.o.store.recordAttempts(batch)
      } catch (error) {
        // Keep them: the leases stop anyone else from sending these until the write succeeds.
        this.#results.unshift(...batch)
        this.o.logger.error({ err: error, attempts: batch.length }, 'delivery:error')
        await new Promise((resolve) => setTimeout(resolve, 500))
        this.#flushing = null
        if (!this.#abandoned) this.#scheduleFlush()
        return
      }
      // A strictly ordered subscription's next delivery can be claimed once this one is
      // recorded: look now, not at the next poll.
      let strict = false
      for (const result of batch) strict = this.#strictEnded.delete(result.deliveryId) || strict
      if (strict) this.#loop.nudge()
      try {
        for (const result of batch) this.o.emitter.emit('delivery:attempted', result)
        await this.o.onRecorded?.(batch, health)
      } catch (error) {
        this.o.logger.error({ err: error }, 'delivery:error')
      } finally {
        this.#flushing = null
        if (this.#results.length > 0) this.#scheduleFlush()
      }
    })
  }
}
