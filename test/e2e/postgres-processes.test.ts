import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { type CliProcess, startCli, WORKER_BANNER } from '../helpers/cli-process.ts'
import { createTestSchemas, outbox, type TestSchemas, withAdmin } from '../helpers/postgres.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'

/** The demo CRM with an 8 s lease (and 1 s attempt timeout). */
const CONFIG = fileURLToPath(
  new URL('../fixtures/crm-short-lease/hookline.config.ts', import.meta.url),
)
const LEASE_MS = 8000
const DEALS = 600
const API_KEY = 'hk_test_processes'

/** The test URL, naming each process's connections so that the test can tell them apart. */
const urlFor = (schemas: TestSchemas, name: string) => {
  const url = new URL(schemas.url)
  url.searchParams.set('application_name', name)
  return url.toString().replaceAll('+', '%20')
}

/** Another program inserts project deals, each in its own transaction, ~250 a second. */
function startWriter(url: string): ChildProcess {
  const lines: string[] = []
  for (let i = 1; i <= DEALS; i++) {
    lines.push(`INSERT INTO deal (name, amount, is_project) VALUES ('deal ${i}', ${i}, 1);`)
    if (i % 10 === 0) lines.push('SELECT pg_sleep(0.04);')
  }
  const writer = spawn('psql', [url, '-v', 'ON_ERROR_STOP=1', '-q', '-o', '/dev/null'], {
    stdio: ['pipe', 'ignore', 'inherit'],
  })
  writer.stdin!.end(lines.join('\n'))
  return writer
}

const exited = (child: ChildProcess) =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise<void>((resolve) => child.once('exit', () => resolve()))

describe('several Hookline processes on one PostgreSQL database', () => {
  const processes: CliProcess[] = []
  let writer: ChildProcess | undefined
  let receiver: Receiver | undefined
  let schemas: TestSchemas | undefined
  afterAll(async () => {
    writer?.kill('SIGKILL')
    await Promise.all(processes.map((p) => p.stop()))
    await receiver?.close()
    await schemas?.drop()
  })

  it('share the deliveries; after kill -9, only the dead process’s leased deliveries repeat', async () => {
    const startedAt = Date.now()
    schemas = await createTestSchemas()
    const s = schemas
    const names = ['start', 'worker-1', 'worker-2'].map((n) => `${s.hooklineSchema}-${n}`)
    const env = (i: number) => ({
      HOOKLINE_DATABASE_URL: urlFor(s, names[i]!),
      HOOKLINE_DATABASE_SCHEMA: s.hooklineSchema,
      HOOKLINE_API_KEY: API_KEY,
      HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true',
      HOOKLINE_POOL_SIZE: '4',
    })
    receiver = await startReceiver()
    // Each attempt stays in flight 150 ms: three processes of 8 slots deliver ~160 a second,
    // fewer than the writer writes, so every process holds 8 leases when one dies.
    receiver.respond = () => ({ status: 200, delayMs: 150 })

    // `start` migrates and creates the CRM's tables; then two workers join it.
    const start = await startCli(
      ['start', '--config', CONFIG, '--port', '0', '--host', '127.0.0.1'],
      env(0),
    )
    processes.push(start)
    processes.push(
      ...(await Promise.all(
        [1, 2].map((i) => startCli(['worker', '--config', CONFIG], env(i), 30_000, WORKER_BANNER)),
      )),
    )
    const res = await request(`${start.url}/api/v1/webhooks/subscribe`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'NewOpportunity', target_url: receiver.url }),
    })
    expect(res.statusCode).toBe(201)
    const subscription = (await res.body.json()) as { secret: string }

    writer = startWriter(s.url)
    const writerExit = new Promise<number | null>((resolve) =>
      writer!.once('exit', (code) => resolve(code)),
    )
    await receiver.waitFor(DEALS / 3, 30_000)

    // Kill the process that consumes the change log (it holds the advisory lock), while
    // the writer still writes: another must take capture over, and its leased deliveries.
    const leader = await withAdmin(async (c) => {
      const { rows } = await c.query<{ name: string }>(
        `SELECT DISTINCT a.application_name AS name FROM pg_locks l
         JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.mode = 'ExclusiveLock' AND l.granted
           AND a.application_name = ANY ($1)`,
        [names],
      )
      return rows.map((r) => r.name)
    })
    expect(leader).toHaveLength(1)
    const victim = processes[names.indexOf(leader[0]!)]!
    victim.child.kill('SIGKILL')
    await exited(victim.child)
    const killedAt = Date.now()
    const receivedAtKill = receiver.received.length

    // What the dead process held: its leases run until before killedAt + LEASE_MS, while
    // every claim made after the kill leases beyond it. A second later the live processes
    // have recorded what they had in flight at the kill (each attempt takes 150 ms), so the
    // unfinished deliveries leased until before that bound are the dead process's.
    await new Promise((resolve) => setTimeout(resolve, 1000))
    const leasedByDead = await withAdmin(async (c) => {
      const { rows } = await c.query<{ message_id: string }>(
        `SELECT message_id FROM ${s.hooklineSchema}.deliveries
         WHERE status IN ('pending', 'failed') AND lease_until IS NOT NULL AND lease_until < $1`,
        [killedAt + LEASE_MS],
      )
      return new Set(rows.map((r) => r.message_id))
    })
    expect(Date.now()).toBeLessThan(killedAt + LEASE_MS)
    expect(leasedByDead.size).toBeGreaterThan(0)

    expect(await writerExit).toBe(0)
    const { messages, unfinished, expectOneMessagePerDeal } = outbox(s.hooklineSchema)
    await expect
      .poll(async () => (await messages()).length === DEALS && (await unfinished()) === 0, {
        timeout: 30_000,
        interval: 250,
      })
      .toBe(true)

    // Every deal made exactly one message, delivered and signed; the change log is empty.
    const ids = await expectOneMessagePerDeal(
      s.appSchema,
      DEALS,
      receiver.received,
      subscription.secret,
    )
    const times = new Map<string, number>()
    for (const [i, id] of ids.entries()) {
      expect(id).toBe(receiver.received[i]!.headers['webhook-id'])
      times.set(id, (times.get(id) ?? 0) + 1)
    }

    // Repeats: only deliveries the dead process held, each sent at most once more.
    const repeated = [...times].filter(([, n]) => n > 1).map(([id]) => id)
    expect(repeated.filter((id) => !leasedByDead.has(id))).toEqual([])
    expect(Math.max(...times.values())).toBeLessThanOrEqual(2)
    expect(repeated.length).toBeLessThanOrEqual(leasedByDead.size)

    // The survivors are still running.
    for (const p of processes.filter((p) => p !== victim)) expect(p.child.exitCode).toBeNull()
    console.info(
      `processes test: ${DEALS} deals, killed ${leader[0]} (capture leader) after ${receivedAtKill} received; it held ${leasedByDead.size} leased deliveries, ${repeated.length} were repeated; ${receiver.received.length} requests, ${Date.now() - startedAt} ms`,
    )
  })
})
