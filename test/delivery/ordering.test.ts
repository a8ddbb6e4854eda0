import { describe, expect, it } from 'vitest'
import { deliveryFixture } from '../helpers/delivery-setup.ts'

const fx = deliveryFixture()

describe('strict ordering', () => {
  it('delivers one message at a time in event order, a failing one holding back the rest', async () => {
    const { hookline, insertDeal, clock } = await fx.setup()
    const r = await fx.receiver()
    const names = () => r.received.map((x) => JSON.parse(x.body).data.name)
    let failFirst = true
    r.respond = (req) => {
      if (failFirst && JSON.parse(req.body).data.name === 'd1') {
        failFirst = false
        return { status: 500 }
      }
      return { status: 200, delayMs: 5 }
    }
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: r.url,
    })
    await hookline.store.updateSubscription(subscription.id, { ordering: 'strict' }, clock.now())
    for (let i = 1; i <= 5; i++) insertDeal(`d${i}`)
    await hookline.drain()
    expect(names()).toEqual(['d1']) // failed: the others wait behind it
    clock.advance(5_000)
    for (let i = 0; i < 6; i++) await hookline.drain()
    expect(names()).toEqual(['d1', 'd1', 'd2', 'd3', 'd4', 'd5'])
  })

  it('sends each next delivery once the one before is recorded, not at the next poll', async () => {
    const { hookline, insertDeal, clock } = await fx.setup()
    const r = await fx.receiver()
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: r.url,
    })
    await hookline.store.updateSubscription(subscription.id, { ordering: 'strict' }, clock.now())
    await hookline.start()
    for (let i = 1; i <= 10; i++) insertDeal(`s${i}`)
    // Ten in turn within the time of three polls (1 s each).
    const received = await r.waitFor(10, 3000)
    expect(received.map((x) => JSON.parse(x.body).data.name)).toEqual(
      Array.from({ length: 10 }, (_, i) => `s${i + 1}`),
    )
  })

  it('stays concurrent by default', async () => {
    const { hookline, insertDeal } = await fx.setup()
    const r = await fx.receiver()
    r.respond = () => ({ status: 200, delayMs: 300 })
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: r.url })
    for (let i = 1; i <= 5; i++) insertDeal(`c${i}`)
    await hookline.drain()
    const times = r.received.map((x) => x.at)
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(300) // all sent before the first answer
  })
})

describe("a subscription's own concurrency limit", () => {
  it('keeps at most max_concurrency attempts in flight to it, while another uses the default', async () => {
    const { hookline, insertDeal } = await fx.setup()
    const limited = await fx.receiver()
    const open = await fx.receiver()
    const peak = new Map<unknown, number>()
    for (const r of [limited, open]) {
      let inFlight = 0
      r.respond = () => {
        inFlight++
        peak.set(r, Math.max(peak.get(r) ?? 0, inFlight))
        setTimeout(() => inFlight--, 150)
        return { status: 200, delayMs: 150 }
      }
    }
    const { subscription } = await hookline.subscriptions.subscribe({
      event: 'NewOpportunity',
      targetUrl: limited.url,
      maxConcurrency: 2,
    })
    expect(subscription.maxConcurrency).toBe(2)
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: open.url })
    for (let i = 1; i <= 8; i++) insertDeal(`m${i}`)
    await hookline.drain()
    expect(limited.received).toHaveLength(8)
    expect(open.received).toHaveLength(8)
    expect(peak.get(limited)).toBe(2)
    expect(peak.get(open)).toBeGreaterThan(2)
  })
})
