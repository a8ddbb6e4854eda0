import Database from 'better-sqlite3'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import type { Hookline } from '../../src/hookline.ts'
import { demoHookline, manualClock } from '../helpers/demo.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

const dir = tempDir()
const open: { hookline?: Hookline; receivers: Receiver[] } = { receivers: [] }

afterEach(async () => {
  await open.hookline?.stop()
  for (const r of open.receivers.splice(0)) await r.close()
})

async function setup(
  options: { timeoutMs?: number; schedule?: number[]; sendThread?: boolean } = {},
) {
  const file = tempDbPath(dir)
  const clock = manualClock(Date.now())
  const hookline = await demoHookline(`sqlite:${file}`, {
    clock,
    random: () => 0.5,
    delivery: {
      timeoutMs: options.timeoutMs ?? 2000,
      ...(options.schedule ? { retrySchedule: options.schedule } : {}),
      ...(options.sendThread === undefined ? {} : { sendThread: options.sendThread }),
    },
  })
  open.hookline = hookline
  const receiver = await startReceiver()
  open.receivers.push(receiver)
  const { subscription } = await hookline.subscriptions.subscribe({
    event: 'NewOpportunity',
    targetUrl: receiver.url,
  })
  const app = new Database(file)
  const insertDeal = (name: string) => {
    const r = app
      .prepare('INSERT INTO deal (name, amount, is_project) VALUES (?, 100, 1)')
      .run(name)
    return Number(r.lastInsertRowid)
  }
  return { hookline, receiver, subscription, clock, insertDeal, app }
}

describe('delivery', () => {
  it.each([
    ['from the sending thread', true],
    ['from the main thread', false],
  ])(
    'sends a Standard Webhooks request that the standardwebhooks library verifies (%s)',
    async (_, sendThread) => {
      const { hookline, receiver, subscription, insertDeal } = await setup({ sendThread })
      const id = insertDeal('Signed deal')
      await hookline.drain()
      const [req] = await receiver.waitFor(1)
      const headers = req!.headers as Record<string, string>
      expect(headers['content-type']).toBe('application/json')
      expect(headers['user-agent']).toMatch(/^Hookline\/\d+\.\d+\.\d+/)
      const verified = new Webhook(subscription.secret).verify(req!.body, headers) as Record<
        string,
        any
      >
      expect(verified.type).toBe('NewOpportunity')
      expect(verified.id).toBe(headers['webhook-id'])
      expect(verified.id).toMatch(/^msg_/)
      expect(new Date(verified.timestamp).toISOString()).toBe(verified.timestamp)
      expect(verified.data).toMatchObject({ id, name: 'Signed deal', is_project: true })
      expect(Number(headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -1)
      const [delivery] = await hookline.listDeliveries({ subscriptionId: subscription.id })
      expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 200 })
    },
  )

  it('retries on the schedule with the same webhook-id, then gives up as dead', async () => {
    const { hookline, receiver, subscription, clock, insertDeal } = await setup()
    receiver.respond = () => ({ status: 500, body: 'boom' })
    insertDeal('Failing deal')
    await hookline.drain()
    const delays = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]
    for (const [i, delay] of delays.entries()) {
      clock.advance(delay - 1)
      await hookline.drain()
      expect(receiver.received).toHaveLength(i + 1) // not yet due
      clock.advance(1)
      await hookline.drain()
      expect(receiver.received).toHaveLength(i + 2)
    }
    clock.advance(100 * 3_600_000)
    await hookline.drain()
    expect(receiver.received).toHaveLength(8)
    expect(new Set(receiver.received.map((r) => r.headers['webhook-id'])).size).toBe(1)
    const [delivery] = await hookline.listDeliveries({ subscriptionId: subscription.id })
    expect(delivery).toMatchObject({ status: 'dead', attempts: 8, lastStatusCode: 500 })
    const full = await hookline.getDelivery(delivery!.id)
    expect(full.attemptLog).toHaveLength(8)
    expect(full.attemptLog[0]).toMatchObject({ statusCode: 500, responseBody: 'boom' })
  })

  it('spreads retries with jitter of at most ±20 %', async () => {
    const file = tempDbPath(dir)
    const clock = manualClock(Date.now())
    const randoms = [0, 1]
    const hookline = await demoHookline(`sqlite:${file}`, {
      clock,
      random: () => randoms.shift() ?? 0.5,
    })
    open.hookline = hookline
    const receiver = await startReceiver()
    open.receivers.push(receiver)
    receiver.respond = () => ({ status: 503 })
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: receiver.url })
    const t0 = clock.now()
    await hookline.trigger('NewOpportunity', 1)
    await hookline.drain()
    const [d] = await hookline.listDeliveries({})
    expect(d!.nextAttemptAt! - t0).toBe(4_000) // 5 s − 20 %
  })

  it('does not follow redirects: a 3xx is a failed attempt', async () => {
    const { hookline, receiver, insertDeal } = await setup()
    const elsewhere = await startReceiver()
    open.receivers.push(elsewhere)
    receiver.respond = () => ({ status: 302, headers: { location: elsewhere.url } })
    insertDeal('Redirected deal')
    await hookline.drain()
    expect(receiver.received).toHaveLength(1)
    expect(elsewhere.received).toHaveLength(0)
    const [d] = await hookline.listDeliveries({})
    expect(d).toMatchObject({ status: 'failed', lastStatusCode: 302 })
    expect(d!.lastError).toMatch(/redirect/)
  })

  it('times out a receiver that never answers and schedules a retry', async () => {
    const { hookline, receiver, insertDeal } = await setup({ timeoutMs: 300 })
    receiver.respond = () => ({ status: 200, hang: true })
    insertDeal('Slow deal')
    await hookline.drain()
    const [d] = await hookline.listDeliveries({})
    expect(d).toMatchObject({ status: 'failed', attempts: 1, lastStatusCode: null })
    expect(d!.lastError).toMatch(/timeout/i)
  })

  it('removes the subscription at once on 410 Gone and stops sending', async () => {
    const { hookline, receiver, subscription, clock, insertDeal } = await setup()
    receiver.respond = () => ({ status: 410 })
    insertDeal('First')
    await hookline.drain()
    expect(receiver.received).toHaveLength(1)
    const sub = await hookline.store.getSubscription(subscription.id)
    expect(sub).toMatchObject({ status: 'removed' })
    insertDeal('Second')
    clock.advance(3_600_000)
    await hookline.drain()
    expect(receiver.received).toHaveLength(1)
    const [d] = await hookline.listDeliveries({ subscriptionId: subscription.id })
    expect(d).toMatchObject({ status: 'dead', lastStatusCode: 410 })
  })

  it('honours Retry-After on 429 within bounds', async () => {
    const { hookline, receiver, clock, insertDeal } = await setup()
    receiver.respond = () => ({ status: 429, headers: { 'retry-after': '120' } })
    insertDeal('Throttled')
    const t0 = clock.now()
    await hookline.drain()
    const [d] = await hookline.listDeliveries({})
    expect(d!.nextAttemptAt! - t0).toBe(120_000)
  })

  it('keeps at most 64 KiB of a huge response body', async () => {
    const { hookline, receiver, insertDeal } = await setup()
    receiver.respond = () => ({ status: 200, body: 'x'.repeat(1024 * 1024) })
    insertDeal('Chatty receiver')
    await hookline.drain()
    const [d] = await hookline.listDeliveries({})
    const full = await hookline.getDelivery(d!.id)
    expect(full.status).toBe('succeeded')
    expect(full.attemptLog[0]!.responseBody).toHaveLength(64 * 1024)
  })

  it('retries a delivery by hand, with the same message', async () => {
    const { hookline, receiver, insertDeal } = await setup({ schedule: [0] })
    receiver.respond = () => ({ status: 500 })
    insertDeal('Retried by hand')
    await hookline.drain()
    const [d] = await hookline.listDeliveries({})
    expect(d!.status).toBe('dead')
    receiver.respond = () => ({ status: 204 })
    await hookline.retryDelivery(d!.id)
    await hookline.drain()
    expect(receiver.received).toHaveLength(2)
    expect(receiver.received[1]!.headers['webhook-id']).toBe(
      receiver.received[0]!.headers['webhook-id'],
    )
    expect((await hookline.getDelivery(d!.id)).status).toBe('succeeded')
  })
})
