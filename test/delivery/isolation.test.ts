import { describe, expect, it } from 'vitest'
import { deliveryFixture } from '../helpers/delivery-setup.ts'
import type { Receiver } from '../helpers/receiver.ts'

const fx = deliveryFixture()

describe('isolation', () => {
  it('a target that never answers and one that takes 6 s do not hold back 20 healthy ones', async () => {
    const { hookline, insertDeal } = await fx.setup({
      timeoutMs: 8000,
      perSubscriptionConcurrency: 4,
    })
    const hanging = await fx.receiver()
    hanging.respond = () => ({ status: 200, hang: true })
    const slow = await fx.receiver()
    slow.respond = () => ({ status: 200, delayMs: 6000 })
    const healthy: Receiver[] = []
    for (let i = 0; i < 20; i++) healthy.push(await fx.receiver())
    for (const r of [hanging, slow, ...healthy])
      await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: r.url })

    await hookline.start()
    const started = Date.now()
    const events = 10
    for (let i = 0; i < events; i++) insertDeal(`deal ${i}`)
    await Promise.all(healthy.map((r) => r.waitFor(events, 10_000)))
    const healthyDone = Date.now() - started

    // Every healthy delivery arrived before the slow target answered even once (6 s after
    // its first request); the stuck targets held no more than their own slots.
    expect(started + healthyDone).toBeLessThan(slow.received[0]!.at + 6000)
    expect(hanging.received.length).toBeLessThanOrEqual(16)
    expect(slow.received.length).toBeLessThanOrEqual(16)
  })
})
