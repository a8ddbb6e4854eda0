import { createServer, type IncomingHttpHeaders, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface Received {
  readonly method: string
  readonly url: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
  readonly at: number
}

export interface Reply {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string
  /** Wait this long before answering. */
  readonly delayMs?: number
  /** Never answer (the sender must time out). */
  readonly hang?: boolean
  /** Answer once this settles. */
  readonly after?: Promise<unknown>
}

/** A real HTTP receiver on 127.0.0.1 that records every request. */
export interface Receiver {
  readonly url: string
  readonly received: Received[]
  /** Decides the answer to each request; 200 by default. */
  respond: (req: Received) => Reply
  /** Resolves once `n` requests have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<Received[]>
  close(): Promise<void>
}

export async function startReceiver(path = '/hook'): Promise<Receiver> {
  const received: Received[] = []
  const waiters: { n: number; resolve: () => void }[] = []
  let server: Server
  const receiver: Receiver = {
    url: '',
    received,
    respond: () => ({ status: 200 }),
    waitFor(n, timeoutMs = 20_000) {
      if (received.length >= n) return Promise.resolve(received)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(`receiver got ${received.length} of ${n} requests in ${timeoutMs} ms`),
            ),
          timeoutMs,
        )
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer)
            resolve(received)
          },
        })
      })
    },
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      }
      received.push(r)
      for (const w of waiters.filter((w) => received.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
      const reply = receiver.respond(r)
      if (reply.hang) return
      const send = () => res.writeHead(reply.status, reply.headers ?? {}).end(reply.body ?? '')
      if (reply.after) void reply.after.then(send)
      else if (reply.delayMs) setTimeout(send, reply.delayMs)
      else send()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  ;(receiver as { url: string }).url = `http://127.0.0.1:${port}${path}`
  return receiver
}
