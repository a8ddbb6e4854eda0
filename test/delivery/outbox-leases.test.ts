import { describe, expect, it } from 'vitest'
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts'
import type { DeliveryJob } from '../../src/storage/types.ts'
import { deliveryFixture } from '../helpers/delivery-setup.ts'
import { heldDispatcher, subscriptionWithDue, until } from '../helpers/held-dispatcher.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

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
    // Ten due for one subscription: more than its 2 slots and queue of 4 can hold.
    const busy = await subscriptionWithDue(store, 'Busy', 10)
    await subscriptionWithDue(store, 'Quiet', 0)
    const held = heldDispatcher(store, { concurrency: 8, perSubscriptionConcurrency: 2 })
    const { dispatcher } = held
    expect(dispatcher.leaseOffer()).toBeNull()
    dispatcher.start()
    // Two in flight, four queued, four left in the store: the busy subscription is left
    // out of offers (its new deliveries must not pass its older ones); the quiet one is not.
    await until(() => dispatcher.leaseOffer() !== null)
    expect(held.sent).toHaveLength(2)
    expect(dispatcher.leaseOffer()).toMatchObject({ limit: 6, exclude: [busy] })
    while (held.sent.length < 10) {
      await until(() => held.unanswered > 0)
      held.answer()
      await new Promise((r) => setTimeout(r, 30))
    }
    // Everything due was claimed: the busy subscription may be offered again.
    await until(() => dispatcher.leaseOffer()?.exclude.length === 0)
    // A batch made more than it leased: the rest waits in the store, and claims take it.
    await dispatcher.accept([], 3)
    expect(dispatcher.leaseOffer()).toBeNull()
    held.answer()
    await dispatcher.stop()
    await store.close()
  })
})
