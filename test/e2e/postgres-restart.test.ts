import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { type CliProcess, startCli, WORKER_BANNER } from '../helpers/cli-process.ts'
import {
  createTestSchemas,
  outbox,
  TEST_DATABASE_URL,
  type TestSchemas,
} from '../helpers/postgres.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'

// Restarts the PostgreSQL server of the tests: vitest runs this file alone, after all the
// others (its own project in vitest.config.ts, a later sequence.groupOrder).

const run = promisify(execFile)
const CONFIG = fileURLToPath(
  new URL('../fixtures/crm-short-lease/hookline.config.ts', import.meta.url),
)
const API_KEY = 'hk_test_restart'
const BEFORE = 400
const AFTER = 200

/** The local cluster serving the test database (`pg_lsclusters`: version, name, port, …). */
function testCluster(): { version: string; name: string; port: string } {
  const { hostname, port } = new URL(TEST_DATABASE_URL)
  const want = port || '5432'
  if (!['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname))
    throw new Error(`the restart test restarts a local cluster; ${hostname} is not local`)
  for (const line of execFileSync('pg_lsclusters', ['-h'], { encoding: 'utf8' }).split('\n')) {
    const [version, name, p] = line.trim().split(/\s+/)
    if (version && name && p === want) return { version, name, port: p }
  }
  throw new Error(`no local PostgreSQL cluster listens on port ${want} (pg_lsclusters)`)
}

const isReady = (port: string) =>
  run('pg_isready', ['-h', '127.0.0.1', '-p', port, '-q']).then(
    () => true,
    () => false,
  )

/** Waits until the server accepts connections again (starting it if it is down). */
async function ensureUp(cluster: ReturnType<typeof testCluster>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  if (!(await isReady(cluster.port)))
    await run('pg_ctlcluster', [
      '--skip-systemctl-redirect',
      cluster.version,
      cluster.name,
      'start',
    ]).catch(() => {})
  while (!(await isReady(cluster.port))) {
    if (Date.now() > deadline)
      throw new Error(
        `PostgreSQL ${cluster.version}/${cluster.name} is not back after ${timeoutMs} ms`,
      )
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** `count` project deals from psql, each its own transaction. */
function writeDeals(url: string, from: number, count: number): Promise<number | null> {
  const lines: string[] = []
  for (let i = from; i < from + count; i++)
    lines.push(`INSERT INTO deal (name, amount, is_project) VALUES ('deal ${i}', ${i}, 1);`)
  const writer: ChildProcess = spawn(
    'psql',
    [url, '-v', 'ON_ERROR_STOP=1', '-q', '-o', '/dev/null'],
    {
      stdio: ['pipe', 'ignore', 'inherit'],
    },
  )
  writer.stdin!.end(lines.join('\n'))
  return new Promise((resolve) => writer.once('exit', (code) => resolve(code)))
}

describe('PostgreSQL restarted while Hookline delivers', () => {
  const cluster = testCluster()
  const processes: CliProcess[] = []
  let receiver: Receiver | undefined
  let schemas: TestSchemas | undefined
  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()))
    await receiver?.close()
    // Whatever happened, the server is up for whoever comes next.
    await ensureUp(cluster)
    await schemas?.drop()
  })

  it('logs it, reconnects, and finishes with nothing lost', async () => {
    const startedAt = Date.now()
    schemas = await createTestSchemas()
    const s = schemas
    const env = {
      HOOKLINE_DATABASE_URL: s.url,
      HOOKLINE_DATABASE_SCHEMA: s.hooklineSchema,
      HOOKLINE_API_KEY: API_KEY,
      HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true',
    }
    receiver = await startReceiver()
    receiver.respond = () => ({ status: 200, delayMs: 50 })
    const named = (name: string) => {
      const url = new URL(s.url)
      url.searchParams.set('application_name', `${s.hooklineSchema}-${name}`)
      return { ...env, HOOKLINE_DATABASE_URL: url.toString().replaceAll('+', '%20') }
    }
    const start = await startCli(
      ['start', '--config', CONFIG, '--port', '0', '--host', '127.0.0.1'],
      named('start'),
    )
    processes.push(start)
    processes.push(
      await startCli(['worker', '--config', CONFIG], named('worker'), 30_000, WORKER_BANNER),
    )
    const res = await request(`${start.url}/api/v1/webhooks/subscribe`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'NewOpportunity', target_url: receiver.url }),
    })
    expect(res.statusCode).toBe(201)
    const subscription = (await res.body.json()) as { secret: string }

    // Deals before the restart; restart while they are being captured and delivered.
    expect(await writeDeals(s.url, 1, BEFORE)).toBe(0)
    await receiver.waitFor(BEFORE / 4, 30_000)
    const restartAt = Date.now()
    const receivedAtRestart = receiver.received.length
    await run('pg_ctlcluster', [
      '--skip-systemctl-redirect',
      cluster.version,
      cluster.name,
      'restart',
    ])
    await ensureUp(cluster)
    const downMs = Date.now() - restartAt
    // And deals after it.
    expect(await writeDeals(s.url, BEFORE + 1, AFTER)).toBe(0)

    const total = BEFORE + AFTER
    const { query, messages, unfinished, expectOneMessagePerDeal } = outbox(s.hooklineSchema)
    const done = async () => (await messages()).length === total && (await unfinished()) === 0
    const deadline = Date.now() + 30_000
    while (!(await done())) {
      for (const p of processes)
        if (p.child.exitCode !== null) throw new Error(`a Hookline process ended:\n${p.output()}`)
      if (Date.now() > deadline) {
        const states = await query(
          `SELECT status, count(*)::int AS n, count(lease_until)::int AS leased FROM ${s.hooklineSchema}.deliveries GROUP BY 1`,
        )
        const changes = await query(
          `SELECT count(*)::int AS n, count(error)::int AS failed FROM ${s.hooklineSchema}.changes`,
        )
        const problems = processes
          .map((p) =>
            p
              .output()
              .split('\n')
              .filter((l) => /"level":[45]0/.test(l))
              .join('\n'),
          )
          .join('\n---\n')
        throw new Error(
          `not done in 30 s: ${(await messages()).length} of ${total} messages, deliveries ${JSON.stringify(states)}, changes ${JSON.stringify(changes)}, ${receiver.received.length} received\n${problems}`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }

    // One message per deal, each delivered and signed: nothing lost, nothing doubled.
    const ids = await expectOneMessagePerDeal(
      s.appSchema,
      total,
      receiver.received,
      subscription.secret,
    )

    // Both processes saw the server go, said so, and came back by themselves.
    for (const p of processes) {
      expect(p.child.exitCode, p.output()).toBeNull()
      expect(p.output()).toContain('"msg":"database:connection-lost"')
      expect(p.output()).toContain('"msg":"database:reconnected"')
    }
    console.info(
      `restart test: ${total} deals, restart after ${receivedAtRestart} received, server back in ${downMs} ms; ${ids.length - total} repeated deliveries, ${Date.now() - startedAt} ms`,
    )
  })
})
