import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { systemClock } from '../../src/clock.ts'
import { Dispatcher } from '../../src/delivery/dispatcher.ts'
import type { SendResult } from '../../src/delivery/http-sender.ts'
import { DEFAULT_RETRY_SCHEDULE } from '../../src/delivery/retry-schedule.ts'
import { HooklineEmitter } from '../../src/hookline-events.ts'
import { newId } from '../../src/ids.ts'
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts'
import type { DeliveryJob } from '../../src/storage/types.ts'
import { deliveryFixture } from '../helpers/delivery-setup.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

const until = async (done: () => boolean | Promise<boolean>) => {
  for (let i = 0; i < 500 && !(await done()); i++) await new Promise((r) => setTimeout(r, 10))
  expect(await done()).toBe(true)
}

describe('deliveries leased by the outbox step', () => {
  const fixture = deliveryFixture()

  it('are sent straight from it, without a claim, each once', async () => {
    const { hookline, insertDeal, app } = await fixture.setup()
    const receiver = await fixture.receiver()
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: receiver.url })
    const { store } = hookline
    const claim = store.claimDeliveries.bind(store)
    const claims: DeliveryJob[][] = []
    store.claimDeliveries = async (...args) => {
      const jobs = await claim(...args)
      claims.push(jobs)
      return jobs
    }
    await hookline.start()
    // The dispatcher's first claim finds nothing due: from then on the outbox step leases.
    await until(() => claims.length > 0)
    insertDeal('first')
    await receiver.waitFor(1)
    app.transaction(() => {
      for (let i = 0; i < 20; i++) insertDeal(`deal ${i}`)
    })()
    const received = await receiver.waitFor(21)
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(21)
    // Of the batch, the subscription's limit (16 in flight) was leased; a claim took the rest.
    expect(claims.flat()).toHaveLength(4)
    const succeeded = async () =>
      (await hookline.listDeliveries({ limit: 100 })).filter(
        (d) => d.status === 'succeeded' && d.attempts === 1,
      ).length === 21
    await until(succeeded)
  })
})

describe('the outbox step is offered leases', () => {
  it('only once a claim took everything due: older due work is claimed first', async () => {
    const store = openSqliteStore({ filename: tempDbPath(tempDir()) })
    await store.migrate()
    const now = Date.now()
    await store.createSubscription({
      id: newId('sub', now),
      event: 'Ping',
      targetUrl: 'http://127.0.0.1:9/ping',
      secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      headers: {},
      now,
    })
    const messages = Array.from({ length: 5 }, (_, i) => ({
      id: newId('msg', now),
      event: 'Ping',
      rowId: i,
      body: '{}',
      createdAt: now,
    }))
    await store.insertMessages(messages)
    const answers: (() => void)[] = []
    const sender = {
      send: () =>
        new Promise<SendResult>((resolve) =>
          answers.push(() =>
            resolve({ statusCode: 200, headers: {}, body: '', error: null, durationMs: 1 }),
          ),
        ),
    }
    const dispatcher = new Dispatcher({
      store,
      sender,
      clock: systemClock,
      logger: pino({ level: 'silent' }),
      emitter: new HooklineEmitter(),
      policy: { schedule: DEFAULT_RETRY_SCHEDULE, retryAfterMaxMs: 60_000 },
      concurrency: 2,
      perSubscriptionConcurrency: 2,
      leaseMs: 60_000,
      pollIntervalMs: 20,
    })
    expect(dispatcher.leaseOffer()).toBeNull()
    dispatcher.start()
    // Two of five claimed: three wait in the store, so new deliveries are not leased ahead.
    await until(() => answers.length === 2)
    expect(dispatcher.leaseOffer()).toBeNull()
    for (const answer of answers.splice(0)) answer()
    await until(() => answers.length === 2)
    expect(dispatcher.leaseOffer()).toBeNull()
    for (const answer of answers.splice(0)) answer()
    // The last one: the claim came back short, everything due is held here.
    await until(() => answers.length === 1)
    await new Promise((r) => setTimeout(r, 50))
    expect(dispatcher.leaseOffer()).toMatchObject({ limit: 1, perSubscription: 2 })
    // A batch made more than it leased: the rest waits in the store, and claims take it.
    await dispatcher.accept([], 3)
    expect(dispatcher.leaseOffer()).toBeNull()
    for (const answer of answers.splice(0)) answer()
    await dispatcher.stop()
    await store.close()
  })
})
