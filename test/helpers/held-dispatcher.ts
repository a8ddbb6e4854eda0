import { pino } from 'pino'
import { expect } from 'vitest'
import { systemClock } from '../../src/clock.ts'
import { Dispatcher } from '../../src/delivery/dispatcher.ts'
import type { SendResult } from '../../src/delivery/http-sender.ts'
import { DEFAULT_RETRY_SCHEDULE } from '../../src/delivery/retry-schedule.ts'
import { HooklineEmitter } from '../../src/hookline-events.ts'
import { newId } from '../../src/ids.ts'
import type { Store } from '../../src/storage/store.ts'
import type { DeliveryJob } from '../../src/storage/types.ts'

/** Every delivery the store's claims return from now on, in order. */
export function countClaims(store: Store): DeliveryJob[] {
  const claimed: DeliveryJob[] = []
  const claim = store.claimDeliveries.bind(store)
  store.claimDeliveries = async (...args) => {
    const jobs = await claim(...args)
    claimed.push(...jobs)
    return jobs
  }
  return claimed
}

/** Waits (up to 5 s) until `done`, then asserts it. */
export async function until(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 500 && !(await done()); i++) await new Promise((r) => setTimeout(r, 10))
  expect(await done()).toBe(true)
}

/**
 * A dispatcher on `store` whose attempts stay in flight until the test answers them
 * (200 OK): `sent` lists the jobs in the order they were sent.
 */
export function heldDispatcher(
  store: Store,
  limits: { concurrency: number; perSubscriptionConcurrency: number },
) {
  const sent: DeliveryJob[] = []
  const answers: (() => void)[] = []
  const sender = {
    send: (job: DeliveryJob) =>
      new Promise<SendResult>((resolve) => {
        sent.push(job)
        answers.push(() =>
          resolve({ statusCode: 200, headers: {}, body: '', error: null, durationMs: 1 }),
        )
      }),
  }
  const dispatcher = new Dispatcher({
    store,
    sender,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    emitter: new HooklineEmitter(),
    policy: { schedule: DEFAULT_RETRY_SCHEDULE, retryAfterMaxMs: 60_000 },
    ...limits,
    leaseMs: 60_000,
    pollIntervalMs: 20,
  })
  return {
    dispatcher,
    sent,
    /** Answers the attempts in flight, the oldest `n` (all by default). */
    answer(n = answers.length) {
      for (const answer of answers.splice(0, n)) answer()
    },
    get unanswered() {
      return answers.length
    },
  }
}

/** A subscription to `event` (its own target path) and `due` deliveries for it. */
export async function subscriptionWithDue(store: Store, event: string, due: number) {
  const now = Date.now()
  const { subscription } = await store.createSubscription({
    id: newId('sub', now),
    event,
    targetUrl: `http://127.0.0.1:9/${event}`,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    headers: {},
    now,
  })
  await store.insertMessages(
    Array.from({ length: due }, (_, i) => ({
      id: newId('msg', now),
      event,
      rowId: i,
      body: '{}',
      createdAt: now,
    })),
  )
  return subscription.id
}
