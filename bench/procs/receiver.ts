// A minimal loopback webhook receiver: counts requests, and for bodies carrying the
// writer's commit time (`"ts":…`) records commit-to-receipt latency. Paths choose the
// behaviour: /ok/… answers 200 at once, /slow/… after 2 s, /hang/… never.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { epochMs, fail, onMessages, procArgs, reply } from '../lib/proc.ts'
import { Samples, summarize } from '../lib/stats.ts'

interface Args {
  /** How many ports to listen on (fan-out spreads subscriptions over them). */
  readonly ports: number
}

const args = procArgs<Args>()
const TS = /"ts":([0-9.]+)/
const latencies = new Samples()
let ok = 0
let other = 0
let expect = Number.POSITIVE_INFINITY
let gen = 0
let first = 0
let last = 0
const hanging = new Set<ServerResponse>()

function handle(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = []
  req.on('data', (c: Buffer) => chunks.push(c))
  req.on('end', () => {
    const url = req.url ?? '/'
    if (url.startsWith('/hang')) {
      other++
      hanging.add(res)
      res.on('close', () => hanging.delete(res))
      return
    }
    if (url.startsWith('/slow')) {
      other++
      setTimeout(() => res.end('ok'), 2000)
      return
    }
    const now = epochMs()
    const m = TS.exec(Buffer.concat(chunks).toString('latin1'))
    if (m) latencies.push(now - Number(m[1]))
    ok++
    if (first === 0) first = now
    last = now
    res.end('ok')
    if (ok === expect) reply({ type: 'reached', gen, count: ok, first, last })
  })
}

try {
  const servers = await Promise.all(
    Array.from({ length: args.ports }, async () => {
      const server = createServer({ keepAliveTimeout: 60_000 }, handle)
      server.maxRequestsPerSocket = 0
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      return server
    }),
  )
  const ports = servers.map((s) => (s.address() as AddressInfo).port)
  onMessages(
    (m) => {
      if (m.type === 'reset') {
        ok = 0
        other = 0
        first = 0
        last = 0
        latencies.clear()
        expect = typeof m.expect === 'number' ? m.expect : Number.POSITIVE_INFINITY
        gen = Number(m.gen)
        reply({ type: 'reset' })
      } else if (m.type === 'report') {
        reply({
          type: 'report',
          ok,
          other,
          first,
          last,
          latency: latencies.length ? summarize(latencies.values()) : null,
        })
      }
    },
    () => {
      for (const res of hanging) res.destroy()
      for (const s of servers) s.closeAllConnections()
    },
  )
  reply({ type: 'ready', ports })
} catch (error) {
  fail(error)
}
