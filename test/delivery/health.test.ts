import { describe, expect, it } from 'vitest'
import { assessHealth, DEFAULT_HEALTH_POLICY } from '../../src/delivery/endpoint-health.ts'
import { deliveryFixture } from '../helpers/delivery-setup.ts'

const fx = deliveryFixture()
const DAY = 86_400_000

describe('assessHealth', () => {
  const p = DEFAULT_HEALTH_POLICY
  it('reports failing once, at the threshold', () => {
    expect(
      assessHealth(
        { subscriptionId: 's', failuresBefore: 4, failuresAfter: 5, failingSince: 0 },
        1,
        p,
      ),
    ).toEqual([{ kind: 'failing' }])
    expect(
      assessHealth(
        { subscriptionId: 's', failuresBefore: 5, failuresAfter: 6, failingSince: 0 },
        1,
        p,
      ),
    ).toEqual([])
  })
  it('reports recovery after a success', () => {
    expect(
      assessHealth(
        { subscriptionId: 's', failuresBefore: 7, failuresAfter: 0, failingSince: null },
        1,
        p,
      ),
    ).toEqual([{ kind: 'recovered' }])
  })
  it('disables after the window with enough failures, not before', () => {
    const change = { subscriptionId: 's', failuresBefore: 11, failuresAfter: 12, failingSince: 0 }
    expect(assessHealth(change, 5 * DAY - 1, p)).toEqual([])
    expect(assessHealth(change, 5 * DAY, p)[0]).toMatchObject({ kind: 'disable' })
    expect(assessHealth({ ...change, failuresAfter: 3, failuresBefore: 2 }, 6 * DAY, p)).toEqual([])
  })
})

describe('endpoint health', () => {
  it('reports failing, disables after the window, and resumes when re-enabled', async () => {
    const { hookline, insertDeal, clock } = await fx.setup({
      retrySchedule: [0, 3_600_000, 3_600_000],
      health: { failingAfter: 2, disableAfterMs: 2 * DAY, disableMinFailures: 3 },
    })
    const target = await fx.receiver()
    const ops = await fx.receiver()
    target.respond = () => ({ status: 500 })
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: target.url,
    })
    for (const event of ['SubscriptionFailing', 'SubscriptionRecovered', 'SubscriptionDisabled'])
      await hookline.subscriptions.subscribe({ event, targetUrl: ops.url })

    insertDeal('a')
    insertDeal('b')
    await hookline.drain() // two failures: failing
    await hookline.drain() // the operational event goes out
    expect(ops.received.map((r) => JSON.parse(r.body).type)).toEqual(['SubscriptionFailing'])
    expect(JSON.parse(ops.received[0]!.body).data).toMatchObject({
      subscription_id: subscription.id,
      consecutive_failures: 2,
    })

    clock.advance(2 * DAY)
    insertDeal('c')
    await hookline.drain()
    await hookline.drain()
    const sub = await hookline.store.getSubscription(subscription.id)
    expect(sub).toMatchObject({ status: 'disabled' })
    expect(sub!.disabledReason).toMatch(/no successful delivery for 2 days/)
    expect(ops.received.map((r) => JSON.parse(r.body).type)).toContain('SubscriptionDisabled')

    // Re-enabled: new events flow again, and the first success is a recovery only if it was failing.
    target.respond = () => ({ status: 200 })
    await hookline.subscriptions.update(subscription.id, { status: 'active' })
    const before = target.received.length
    insertDeal('d')
    await hookline.drain()
    expect(target.received.length).toBe(before + 1)
    expect(await hookline.store.getSubscription(subscription.id)).toMatchObject({
      status: 'active',
      consecutiveFailures: 0,
    })
  })

  it('reports recovery when a failing subscription succeeds again', async () => {
    const { hookline, insertDeal, clock } = await fx.setup({
      retrySchedule: [0, 1000, 1000, 1000],
      health: { failingAfter: 2 },
    })
    const target = await fx.receiver()
    const ops = await fx.receiver()
    let fail = true
    target.respond = () => ({ status: fail ? 500 : 200 })
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: target.url })
    await hookline.subscriptions.subscribe({ event: 'SubscriptionRecovered', targetUrl: ops.url })
    insertDeal('x')
    await hookline.drain()
    clock.advance(1000)
    await hookline.drain()
    fail = false
    clock.advance(1000)
    await hookline.drain()
    await hookline.drain()
    expect(ops.received.map((r) => JSON.parse(r.body).type)).toEqual(['SubscriptionRecovered'])
  })

  it('lists the operational events in the catalog', async () => {
    const { hookline } = await fx.setup()
    expect(hookline.catalog.names).toEqual(
      expect.arrayContaining([
        'SubscriptionFailing',
        'SubscriptionRecovered',
        'SubscriptionDisabled',
      ]),
    )
  })
})
