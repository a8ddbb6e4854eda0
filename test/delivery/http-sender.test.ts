import { createServer } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { HttpSender } from '../../src/delivery/http-sender.ts'
import { TargetPolicy } from '../../src/delivery/target-policy.ts'
import type { DeliveryJob } from '../../src/storage/types.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'

let receiver: Receiver | undefined
let sender: HttpSender | undefined
afterEach(async () => {
  await sender?.close()
  await receiver?.close()
  sender = receiver = undefined
})

function newSender(timeoutMs: number, connectionsPerOrigin = 4, private_ = true): HttpSender {
  sender = new HttpSender({
    policy: new TargetPolicy({ allowPrivateTargets: private_ }),
    timeoutMs,
    connectionsPerOrigin,
    userAgent: 'Hookline-test',
  })
  return sender
}

function job(targetUrl: string, n = 1): DeliveryJob {
  return {
    id: `dlv_${n}`,
    messageId: `msg_${n}`,
    subscriptionId: 'sub_1',
    event: 'NewOpportunity',
    body: `{"n":${n}}`,
    targetUrl,
    secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'],
    headers: { 'x-tenant': 'acme' },
    attempts: 0,
    maxConcurrency: null,
    strict: false,
  }
}

describe('HttpSender', () => {
  it('sends the signed request with the path and query, and keeps only the control headers', async () => {
    receiver = await startReceiver('/hook')
    receiver.respond = () => ({
      status: 410,
      headers: { 'retry-after': '30', 'webhook-delivery': 'disable', 'x-other': 'no' },
      body: 'gone',
    })
    const result = await newSender(5000).send(job(`${receiver.url}?a=1&b=2`), 1_700_000_000_000)
    expect(result).toMatchObject({ statusCode: 410, body: 'gone', error: null })
    expect(result.headers).toEqual({ 'retry-after': '30', 'webhook-delivery': 'disable' })
    const [req] = receiver.received
    expect(req!.url).toBe('/hook?a=1&b=2')
    expect(req!.body).toBe('{"n":1}')
    expect(req!.headers).toMatchObject({
      'x-tenant': 'acme',
      'content-type': 'application/json',
      'user-agent': 'Hookline-test',
      'webhook-id': 'msg_1',
      'webhook-timestamp': '1700000000',
    })
    expect(req!.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/)
  })

  it('counts the wait for a connection in the attempt timeout', async () => {
    receiver = await startReceiver('/hook')
    receiver.respond = () => ({ status: 200, hang: true })
    // One connection: the second attempt waits behind the first, which never ends.
    const s = newSender(300, 1)
    const results = await Promise.all([
      s.send(job(receiver.url, 1), Date.now()),
      s.send(job(receiver.url, 2), Date.now()),
    ])
    for (const r of results) {
      expect(r.statusCode).toBeNull()
      expect(r.error).toMatch(/^timeout/)
    }
    // The second timed out while waiting: it was never sent.
    expect(receiver.received).toHaveLength(1)
  })

  it('reports a refused connection as an error without a status', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as { port: number }).port
    await new Promise((resolve) => closed.close(resolve))
    const result = await newSender(2000).send(job(`http://127.0.0.1:${port}/hook`), Date.now())
    expect(result.statusCode).toBeNull()
    expect(result.error).toMatch(/ECONNREFUSED/)
    expect(result.refused).toBe(false)
  })

  it('refuses a private literal address without connecting, every time', async () => {
    const s = newSender(2000, 4, false)
    for (const n of [1, 2]) {
      const result = await s.send(job('http://10.1.2.3/hook', n), Date.now())
      expect(result).toMatchObject({ statusCode: null, refused: true })
      expect(result.error).toMatch(/private, loopback or reserved/)
    }
  })
})
