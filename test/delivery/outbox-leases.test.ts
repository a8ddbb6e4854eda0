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
  it('for no subscription whose older due work still waits in the store', async () => {
    const store = openSqliteStore({ filename: tempDbPath(tempDir()) })
    await store.migrate()
    const now = Date.now()
    const subscribe = async (name: string) =>
      (
        await store.createSubscription({
          id: newId('sub', now),
          event: name,
          targetUrl: `http://127.0.0.1:9/${name}`,
          secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          headers: {},
          now,
        })
      ).subscription.id
    const busy = await subscribe('Busy')
    await subscribe('Quiet')
    // Ten due for one subscription: more than its 2 slots and queue of 4 can hold.
    await store.insertMessages(
      Array.from({ length: 10 }, (_, i) => ({
        id: newId('msg', now),
        event: 'Busy',
        rowId: i,
        body: '{}',
        createdAt: now,
      })),
    )
    const answers: (() => void)[] = []
    let sent = 0
    const sender = {
      send: () =>
        new Promise<SendResult>((resolve) => {
          sent++
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
      concurrency: 8,
      perSubscriptionConcurrency: 2,
      leaseMs: 60_000,
      pollIntervalMs: 20,
    })
    expect(dispatcher.leaseOffer()).toBeNull()
    dispatcher.start()
    // Two in flight, four queued, four left in the store: the busy subscription is left
    // out of offers (its new deliveries must not pass its older ones); the quiet one is not.
    await until(() => dispatcher.leaseOffer() !== null)
    expect(sent).toBe(2)
    expect(dispatcher.leaseOffer()).toMatchObject({ limit: 6, exclude: [busy] })
    while (sent < 10) {
      await until(() => answers.length > 0)
      for (const answer of answers.splice(0)) answer()
      await new Promise((r) => setTimeout(r, 30))
    }
    // Everything due was claimed: the busy subscription may be offered again.
    await until(() => dispatcher.leaseOffer()?.exclude.length === 0)
    // A batch made more than it leased: the rest waits in the store, and claims take it.
    await dispatcher.accept([], 3)
    expect(dispatcher.leaseOffer()).toBeNull()
    for (const answer of answers.splice(0)) answer()
    await dispatcher.stop()
    await store.close()
  })
})
