import { Webhook } from 'standardwebhooks'
import { describe, expect, it } from 'vitest'
import { deliveryFixture } from '../helpers/delivery-setup.ts'

const fx = deliveryFixture()

describe('attempt log, replay and retention', () => {
  it('recovers failed and dead deliveries of a subscription since a time', async () => {
    const { hookline, insertDeal, clock } = await fx.setup({ retrySchedule: [0] })
    const r = await fx.receiver()
    r.respond = () => ({ status: 500 })
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: r.url,
    })
    insertDeal('old')
    await hookline.drain()
    clock.advance(60_000)
    const since = clock.now()
    insertDeal('new 1')
    insertDeal('new 2')
    await hookline.drain()
    expect(await hookline.listDeliveries({ status: 'dead' })).toHaveLength(3)
    r.respond = () => ({ status: 200 })
    expect(await hookline.recover(subscription.id, since)).toBe(2)
    await hookline.drain()
    expect(await hookline.listDeliveries({ status: 'succeeded' })).toHaveLength(2)
    expect(await hookline.listDeliveries({ status: 'dead' })).toHaveLength(1)
  })

  it('sends a test event to one subscription and returns the attempt', async () => {
    const { hookline } = await fx.setup()
    const r = await fx.receiver()
    const other = await fx.receiver()
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: r.url,
    })
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: other.url })
    const test = await hookline.sendTest(subscription.id)
    expect(test).toMatchObject({ status: 'succeeded', attempts: 1, result: { statusCode: 200 } })
    expect(test.attemptLog).toHaveLength(1)
    expect(other.received).toHaveLength(0)
    const body = new Webhook(subscription.secret).verify(
      r.received[0]!.body,
      r.received[0]!.headers as Record<string, string>,
    )
    expect(body).toMatchObject({ type: 'NewOpportunity', data: { name: 'Example deal' } })
  })

  it('prunes finished messages past the retention period, keeping unfinished ones', async () => {
    const { hookline, insertDeal, clock } = await fx.setup({
      retentionMs: 86_400_000,
      retrySchedule: [0, 10 * 86_400_000],
    })
    const ok = await fx.receiver()
    const failing = await fx.receiver()
    failing.respond = () => ({ status: 500 })
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: ok.url })
    insertDeal('delivered')
    await hookline.drain()
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: failing.url,
    })
    insertDeal('still retrying')
    await hookline.drain()
    clock.advance(2 * 86_400_000)
    expect(await hookline.prune()).toBe(1)
    expect(await hookline.store.countMessages()).toBe(1)
    expect(await hookline.listDeliveries({ subscriptionId: subscription.id })).toHaveLength(1)
  })
})

describe('lifecycle', () => {
  it('stop() is idempotent', async () => {
    const { hookline } = await fx.setup()
    await hookline.start()
    await Promise.all([hookline.stop(), hookline.stop()])
    await expect(hookline.stop()).resolves.toBeUndefined()
  })
})

describe('retention sweep', () => {
  it('cancels deliveries stranded on a subscription that went away as they were made', async () => {
    const { hookline, app } = await fx.setup()
    const r = await fx.receiver()
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: r.url,
    })
    await hookline.trigger('NewOpportunity', 1)
    // The removal committed without seeing the new delivery (another process, same instant).
    app
      .prepare("UPDATE hookline_subscriptions SET status = 'removed' WHERE id = ?")
      .run(subscription.id)
    expect(await hookline.store.nextDueAt()).not.toBeNull()
    await hookline.prune()
    expect(await hookline.store.nextDueAt()).toBeNull()
    expect(await hookline.listDeliveries({ status: 'cancelled' })).toHaveLength(1)
  })
})
