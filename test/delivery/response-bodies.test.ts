import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { deliveryFixture } from '../helpers/delivery-setup.ts'

const fx = deliveryFixture()
let server: Server | undefined
afterEach(async () => {
  server?.closeAllConnections()
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined))
  server = undefined
})

/** A receiver that answers 200 and then sends body bytes forever, every `everyMs`. */
async function endlessReceiver(chunk: string, everyMs: number): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    const timer = setInterval(() => res.write(chunk), everyMs)
    res.on('close', () => clearInterval(timer))
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/endless`
}

describe('response bodies never hurt the worker', () => {
  it('cuts a never-ending fast body at 64 KiB and counts the 2xx as delivered', async () => {
    const { hookline, insertDeal } = await fx.setup({ timeoutMs: 5000 })
    const url = await endlessReceiver('y'.repeat(16 * 1024), 1)
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: url })
    insertDeal('endless')
    await hookline.drain()
    const [d] = await hookline.listDeliveries({})
    const full = await hookline.getDelivery(d!.id)
    expect(full.status).toBe('succeeded')
    expect(full.attemptLog[0]!.responseBody).toHaveLength(64 * 1024)
  })

  it('ends a never-ending slow body at the attempt timeout, keeping the 2xx and what arrived', async () => {
    const { hookline, insertDeal } = await fx.setup({ timeoutMs: 500 })
    const url = await endlessReceiver('z', 50)
    await hookline.subscriptions.subscribe({ event: 'NewOpportunity', targetUrl: url })
    insertDeal('trickle')
    await hookline.drain()
    const [d] = await hookline.listDeliveries({})
    expect(d).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 200 })
    const [attempt] = (await hookline.getDelivery(d!.id)).attemptLog
    expect(attempt!.durationMs).toBeLessThan(2000)
    expect(attempt!.responseBody).toMatch(/^z+$/)
  })
})
