import { describe, expect, it } from 'vitest'
import { deliveryFixture } from '../helpers/delivery-setup.ts'

const fx = deliveryFixture()

describe('receiver-driven control', () => {
  it('removes the subscription at once on webhook-delivery: disable', async () => {
    const { hookline, insertDeal, clock } = await fx.setup()
    const r = await fx.receiver()
    r.respond = () => ({ status: 200, headers: { 'webhook-delivery': 'disable' } })
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: r.url,
    })
    insertDeal('one')
    await hookline.drain()
    expect(await hookline.store.getSubscription(subscription.id)).toMatchObject({
      status: 'removed',
    })
    insertDeal('two')
    clock.advance(60_000)
    await hookline.drain()
    expect(r.received).toHaveLength(1)
  })

  it('stops retrying a message on webhook-delivery: abort-message, and keeps the subscription', async () => {
    const { hookline, insertDeal, clock } = await fx.setup()
    const r = await fx.receiver()
    r.respond = () => ({ status: 500, headers: { 'webhook-delivery': 'abort-message' } })
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: r.url,
    })
    insertDeal('aborted')
    await hookline.drain()
    clock.advance(3_600_000)
    await hookline.drain()
    expect(r.received).toHaveLength(1)
    const [d] = await hookline.listDeliveries({})
    expect(d).toMatchObject({ status: 'dead', attempts: 1 })
    expect(await hookline.store.getSubscription(subscription.id)).toMatchObject({
      status: 'active',
    })
  })

  it('honours Retry-After as an HTTP date on 503, bounded by retryAfterMaxMs', async () => {
    const { hookline, insertDeal, clock } = await fx.setup({ retryAfterMaxMs: 60_000 })
    const r = await fx.receiver()
    r.respond = () => ({
      status: 503,
      headers: { 'retry-after': new Date(clock.now() + 10 * 3_600_000).toUTCString() },
    })
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: r.url })
    const t0 = clock.now()
    insertDeal('busy')
    await hookline.drain()
    const [d] = await hookline.listDeliveries({})
    expect(d!.nextAttemptAt! - t0).toBe(60_000)
  })

  it('disables a subscription whose target answers 404 through the whole schedule', async () => {
    const { hookline, insertDeal, clock } = await fx.setup({ retrySchedule: [0, 1000, 1000] })
    const r = await fx.receiver()
    r.respond = () => ({ status: 404 })
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: r.url,
    })
    insertDeal('gone?')
    for (let i = 0; i < 3; i++) {
      await hookline.drain()
      clock.advance(1000)
    }
    expect(r.received).toHaveLength(3)
    const sub = await hookline.store.getSubscription(subscription.id)
    expect(sub).toMatchObject({ status: 'disabled' })
    expect(sub!.disabledReason).toMatch(/404/)
  })
})
