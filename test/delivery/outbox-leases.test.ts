import { describe, expect, it } from 'vitest'
import type { Hookline } from '../../src/hookline.ts'
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts'
import type { DeliveryJob } from '../../src/storage/types.ts'
import { deliveryFixture } from '../helpers/delivery-setup.ts'
import {
  countClaims,
  heldDispatcher,
  subscriptionWithDue,
  until,
} from '../helpers/held-dispatcher.ts'
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
    // Capture kept pace: the batch went in steps of what the subscription had room for
    // (16 in flight), each leased whole; no claim found any of it.
    expect(claims.flat()).toHaveLength(0)
    const succeeded = async () =>
      (await hookline.listDeliveries({ limit: 100 })).filter(
        (d) => d.status === 'succeeded' && d.attempts === 1,
      ).length === 21
    await until(succeeded)
  })
})

describe('capture, where one process delivers', () => {
  const fixture = deliveryFixture()

  /** A started Hookline with one subscription, counting what claims find. */
  async function counted(perSubscriptionConcurrency: number) {
    const setup = await fixture.setup({ concurrency: 8, perSubscriptionConcurrency })
    const { hookline, insertDeal } = setup
    const receiver = await fixture.receiver()
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: receiver.url })
    const claimed = countClaims(hookline.store)
    await hookline.start()
    // One change first: the next steps know where its event fans out.
    insertDeal('first')
    await receiver.waitFor(1)
    const burst = (n: number) =>
      setup.app.transaction(() => {
        for (let i = 0; i < n; i++) insertDeal(`deal ${i}`)
      })()
    return { ...setup, receiver, claimed, burst }
  }

  const pending = async (hookline: Hookline) =>
    (await hookline.listDeliveries({ status: 'pending', limit: 100 })).length

  it('takes no more changes than a busy sender has room for, so that all are leased', async () => {
    const { receiver, claimed, burst } = await counted(2)
    receiver.respond = () => ({ status: 200, delayMs: 5 })
    burst(20)
    const received = await receiver.waitFor(21)
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(21)
    // Steps of the room of its 2 slots and queue, each leased whole: no claim found one.
    expect(claimed).toHaveLength(0)
  })

  it('does not wait for a sender hung on its targets; claims take what it left', async () => {
    const { hookline, receiver, claimed, burst } = await counted(2)
    let open = () => {}
    const gate = new Promise<void>((resolve) => {
      open = resolve
    })
    receiver.respond = () => ({ status: 200, after: gate })
    burst(20)
    // Nothing answers: the whole log becomes deliveries anyway.
    await until(async () => (await hookline.store.countPendingChanges()) === 0)
    expect(await pending(hookline)).toBe(20)
    open()
    await receiver.waitFor(21)
    await until(async () => (await pending(hookline)) === 0)
    expect(claimed.length).toBeGreaterThan(0)
  })

  /**
   * One slot, 20 ms an answer: a burst of 120 changes takes 2.4 s to send. (The answers
   * come well within the 100 ms after which a subscription counts as hung, even on a busy
   * machine.)
   */
  async function slowBurst() {
    const setup = await counted(1)
    setup.receiver.respond = () => ({ status: 200, delayMs: 20 })
    setup.burst(120)
    const { hookline } = setup
    await until(async () => (await hookline.store.countPendingChanges()) === 0)
    expect(setup.receiver.received.length).toBeLessThan(100)
    return setup
  }

  it('runs paced for a second at most, then leases the rest of a burst into memory', async () => {
    const { hookline, receiver, claimed } = await slowBurst()
    const received = await receiver.waitFor(121)
    await until(async () => (await pending(hookline)) === 0)
    // The steps after the paced second leased all they made (the deep queue): each sent
    // once, and no claim found any.
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(121)
    expect(claimed).toHaveLength(0)
  })

  it('hands back what waits in memory once half its lease is gone; claims send it, once', async () => {
    const { hookline, receiver, claimed, clock } = await slowBurst()
    // Past half the lease (2 min by default), not past its end: still this process's.
    clock.advance(70_000)
    const received = await receiver.waitFor(121)
    await until(async () => (await pending(hookline)) === 0)
    await new Promise((r) => setTimeout(r, 100))
    expect(receiver.received).toHaveLength(121)
    expect(new Set(received.map((r) => r.headers['webhook-id'])).size).toBe(121)
    expect(claimed.length).toBeGreaterThan(0)
  })

  it('sends nothing more that waits in memory for a subscription that was removed', async () => {
    const { hookline, receiver } = await slowBurst()
    const [sub] = await hookline.subscriptions.list({})
    await hookline.subscriptions.unsubscribe(sub!.id)
    // Checked every half second: at most the attempt in flight, its queue, and what
    // twenty-five more 20 ms answers take go out meanwhile.
    await new Promise((r) => setTimeout(r, 700))
    const sent = receiver.received.length
    await new Promise((r) => setTimeout(r, 500))
    expect(receiver.received.length).toBe(sent)
    expect(sent).toBeLessThan(121)
    expect(await pending(hookline)).toBe(0)
  })
})

describe('capture, where delivery is held (no slots)', () => {
  const fixture = deliveryFixture()

  it('is not held back by the sender', async () => {
    const { hookline, app, insertDeal } = await fixture.setup({ concurrency: 0 })
    const receiver = await fixture.receiver()
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: receiver.url })
    await hookline.start()
    const made = async () => (await hookline.listDeliveries({ limit: 100 })).length
    insertDeal('first')
    await until(async () => (await made()) === 1)
    const started = performance.now()
    app.transaction(() => {
      for (let i = 0; i < 20; i++) insertDeal(`deal ${i}`)
    })()
    await until(async () => (await made()) === 21)
    // A step held for the sender would have waited a second.
    expect(performance.now() - started).toBeLessThan(900)
    expect(receiver.received).toHaveLength(0)
  })
})

describe('the pace the dispatcher sets for capture', () => {
  it('lets a change through that fans out wider than leases can ever reach', async () => {
    const store = openSqliteStore({ filename: tempDbPath(tempDir()) })
    await store.migrate()
    const { dispatcher } = heldDispatcher(store, { concurrency: 8, perSubscriptionConcurrency: 2 })
    const subs = Array.from({ length: 30 }, (_, i) => `sub_${i}`)
    // Not sending: no pace.
    expect(dispatcher.intake(subs, 30)).toBe(Number.POSITIVE_INFINITY)
    dispatcher.start()
    // One subscription: its round of 2 slots a step.
    expect(dispatcher.intake(subs.slice(0, 1), 1)).toBe(2)
    // Four subscriptions, one delivery each a change: 8 of the 16 the process may hold.
    expect(dispatcher.intake(subs.slice(0, 4), 4)).toBe(2)
    // Thirty a change, more than the 16 it may ever hold: one change a step, not none.
    expect(dispatcher.intake(subs, 30)).toBe(1)
    await dispatcher.stop()
    await store.close()
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
    // The offer is the room left: 8 slots and a round queued, less the 2 + 4 held.
    expect(dispatcher.leaseOffer()).toMatchObject({ limit: 10, exclude: [busy] })
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
