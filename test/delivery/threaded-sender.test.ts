import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Webhook } from 'standardwebhooks'
import { afterEach, describe, expect, it } from 'vitest'
import { ThreadedSender } from '../../src/delivery/threaded-sender.ts'
import type { DeliveryJob } from '../../src/storage/types.ts'
import { threadScript } from '../../src/thread-script.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'
import { tempDir } from '../helpers/temp.ts'

const SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`

const job = (url: string, i: number): DeliveryJob => ({
  id: `dlv_${i}`,
  messageId: `msg_${i}`,
  subscriptionId: 'sub_1',
  event: 'Ping',
  body: JSON.stringify({ type: 'Ping', data: { i } }),
  targetUrl: url,
  secrets: [SECRET],
  headers: { 'x-tenant': 'acme' },
  attempts: 0,
  maxConcurrency: null,
  strict: false,
})

describe('sending from a worker thread', () => {
  let receiver: Receiver
  let sender: ThreadedSender
  afterEach(async () => {
    await sender.close()
    await receiver.close()
  })
  const open = async () => {
    receiver = await startReceiver()
    sender = new ThreadedSender({
      timeoutMs: 2000,
      connectionsPerOrigin: 8,
      policy: { allowPrivateTargets: true },
    })
  }

  it('sends signed deliveries and hands each response back to its own attempt', async () => {
    await open()
    receiver.respond = (req) => {
      const i = (JSON.parse(req.body) as { data: { i: number } }).data.i
      return { status: i % 2 === 0 ? 200 : 500, body: `answer ${i}` }
    }
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => sender.send(job(receiver.url, i), Date.now())),
    )
    expect(results.map((r) => r.statusCode)).toEqual(
      Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? 200 : 500)),
    )
    expect(results.map((r) => r.body)).toEqual(Array.from({ length: 40 }, (_, i) => `answer ${i}`))
    for (const req of receiver.received) {
      expect(req.headers['x-tenant']).toBe('acme')
      new Webhook(SECRET).verify(req.body, req.headers as Record<string, string>)
    }
  })

  it('keeps the target policy in the thread: a refused address is not sent to', async () => {
    receiver = await startReceiver()
    sender = new ThreadedSender({ timeoutMs: 2000, connectionsPerOrigin: 8, policy: {} })
    const result = await sender.send(job(receiver.url, 1), Date.now())
    expect(result).toMatchObject({ statusCode: null, refused: true })
    expect(receiver.received).toHaveLength(0)
  })

  it('fails the attempts of a thread that dies, and starts a new one for the next send', async () => {
    await open()
    receiver.respond = () => ({ status: 200, hang: true })
    const lost = sender.send(job(receiver.url, 1), Date.now())
    await receiver.waitFor(1)
    await sender.thread?.terminate()
    await expect(lost).rejects.toThrow(/sending thread ended/)
    receiver.respond = () => ({ status: 204 })
    expect((await sender.send(job(receiver.url, 2), Date.now())).statusCode).toBe(204)
  })
})

describe('a thread’s script', () => {
  const dir = tempDir()
  it('is built from the TypeScript module, and refuses what a script cannot do', () => {
    const ok = join(dir, 'ok.ts')
    writeFileSync(
      ok,
      "import { parentPort } from 'node:worker_threads'\nparentPort?.postMessage(1 as number)\n",
    )
    expect(threadScript(pathToFileURL(ok))).toContain('postMessage(1)')
    const meta = join(dir, 'meta.ts')
    writeFileSync(meta, 'export const here: string = import.meta.url\n')
    expect(() => threadScript(pathToFileURL(meta))).toThrow(
      /cannot build the thread .*import\.meta/,
    )
  })
})
