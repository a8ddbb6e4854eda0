import { describe, expect, it } from 'vitest'
import { deliveryFixture } from '../helpers/delivery-setup.ts'
import type { Receiver } from '../helpers/receiver.ts'

const fx = deliveryFixture()
const HEALTHY = 20
const EVENTS = 20
const SLOW_MS = 6000

/** Where the targets live: each on its own host, or all on one (as every Zapier hook is). */
const layouts = {
  'separate hosts': async () => {
    const hanging = await fx.receiver()
    const slow = await fx.receiver()
    const healthy: Receiver[] = []
    for (let i = 0; i < HEALTHY; i++) healthy.push(await fx.receiver())
    hanging.respond = () => ({ status: 200, hang: true })
    slow.respond = () => ({ status: 200, delayMs: SLOW_MS })
    return {
      urls: { hanging: hanging.url, slow: slow.url, healthy: healthy.map((r) => r.url) },
      received: (url: string) =>
        [hanging, slow, ...healthy].find((r) => r.url === url)!.received.map((r) => r.at),
    }
  },
  'one shared host': async () => {
    const host = await fx.receiver()
    host.respond = (req) =>
      req.url.endsWith('/hang')
        ? { status: 200, hang: true }
        : req.url.endsWith('/slow')
          ? { status: 200, delayMs: SLOW_MS }
          : { status: 200 }
    const base = host.url.replace(/\/hook$/, '')
    return {
      urls: {
        hanging: `${base}/hang`,
        slow: `${base}/slow`,
        healthy: Array.from({ length: HEALTHY }, (_, i) => `${base}/ok/${i}`),
      },
      received: (url: string) => host.received.filter((r) => url.endsWith(r.url)).map((r) => r.at),
    }
  },
}

describe('isolation', () => {
  it.each(Object.keys(layouts) as (keyof typeof layouts)[])(
    'a target that never answers and one that takes 6 s do not hold back 20 healthy ones (%s)',
    async (layout) => {
      const { hookline, insertDeal } = await fx.setup({
        timeoutMs: 8000,
      })
      const { urls, received } = await layouts[layout]()
      for (const url of [urls.hanging, urls.slow, ...urls.healthy])
        await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: url })

      await hookline.start()
      for (let i = 0; i < EVENTS; i++) insertDeal(`deal ${i}`)
      const deadline = Date.now() + 15_000
      while (urls.healthy.some((u) => received(u).length < EVENTS) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20))
      const lastHealthy = Math.max(...urls.healthy.flatMap(received))

      // Every healthy delivery arrived before the slow target answered even once; the
      // stuck targets held no more than their own slots.
      expect(urls.healthy.map((u) => received(u).length)).toEqual(urls.healthy.map(() => EVENTS))
      expect(received(urls.slow).length).toBeGreaterThan(0)
      expect(lastHealthy).toBeLessThan(received(urls.slow)[0]! + SLOW_MS)
      expect(received(urls.hanging).length).toBeLessThanOrEqual(16)
      expect(received(urls.slow).length).toBeLessThanOrEqual(16)
    },
  )
})
