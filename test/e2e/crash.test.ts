import { type ChildProcess, spawn } from 'node:child_process'
import Database from 'better-sqlite3'
import { Webhook } from 'standardwebhooks'
import { request } from 'undici'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../helpers/demo.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

// Nothing lost, nothing doubled: while another process inserts project deals, the real
// `hookline start` process is killed with SIGKILL at random moments and started again.

const DEALS = 400
const WRITE_EVERY_MS = 15
const MIN_KILLS = 3
const MAX_KILLS = 8
const API_KEY = 'hk_test_crash_safety'

const file = tempDbPath(tempDir())
const live = new Set<ChildProcess>()
let receiver: Receiver | null = null

afterAll(async () => {
  for (const child of live) child.kill('SIGKILL')
  await Promise.all([...live].map(exited))
  await receiver?.close()
})

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

function track(child: ChildProcess): ChildProcess {
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

interface HooklineProcess {
  readonly child: ChildProcess
  /** Resolves with the API's URL once the banner is printed (capture and delivery running). */
  readonly ready: Promise<string>
  readonly output: () => string
}

/** `hookline start` on the demo CRM, as an operator runs it (port 0: any free port). */
function startHookline(): HooklineProcess {
  const child = track(
    spawn(
      process.execPath,
      [
        'bin/hookline.mjs',
        'start',
        '--config',
        'examples/crm/hookline.config.ts',
        '--database',
        `sqlite:${file}`,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
      ],
      {
        cwd: REPO_ROOT,
        env: {
          ...process.env,
          HOOKLINE_API_KEY: API_KEY,
          HOOKLINE_LOG_LEVEL: 'warn',
          // `start` refuses loopback targets unless told otherwise; the receiver is on 127.0.0.1.
          HOOKLINE_ALLOW_PRIVATE_TARGETS: 'true',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  )
  let out = ''
  const ready = new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = /API on (http:\/\/\S+?),/.exec(out)
      if (m) resolve(m[1]!)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code, signal) =>
      reject(new Error(`hookline exited (${code ?? signal}) before it was ready:\n${out}`)),
    )
  })
  ready.catch(() => {}) // a process killed during start-up is never ready, by design
  return { child, ready, output: () => out }
}

/** A separate process inserting project deals at a steady pace, with its own connection. */
function startWriter(): ChildProcess {
  return track(
    spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1], { timeout: 10000 })
         const insert = db.prepare("INSERT INTO deal (name, amount, is_project) VALUES (?, ?, 1)")
         const [n, every] = [Number(process.argv[2]), Number(process.argv[3])]
         let i = 0
         const timer = setInterval(() => {
           i++
           insert.run('crash test deal ' + i, i)
           if (i === 1) console.log('writing')
           if (i === n) { clearInterval(timer); db.close() }
         }, every)`,
        file,
        String(DEALS),
        String(WRITE_EVERY_MS),
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    ),
  )
}

const randomBetween = (min: number, max: number) => min + Math.random() * (max - min)
const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves once `condition` holds, looking every 50 ms; rejects with `describe()` on timeout. */
async function waitUntil(condition: () => boolean, describe: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`)
    await delay(50)
  }
}

describe('crash safety on SQLite', () => {
  it('delivers exactly one message per inserted deal across repeated kill -9 and restart', async () => {
    const startedAt = Date.now()
    receiver = await startReceiver()
    const first = startHookline()
    const url = await first.ready
    const res = await request(`${url}/api/v1/webhooks/subscribe`, {
      method: 'POST',
      headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'NewOpportunity', target_url: receiver.url }),
    })
    const subscription = (await res.body.json()) as { id: string; secret: string }
    expect(res.statusCode).toBe(201)

    const writer = startWriter()
    let writing = true
    const writerExit = new Promise<number | null>((resolve) =>
      writer.once('exit', (code) => {
        writing = false
        resolve(code)
      }),
    )
    await new Promise((resolve) => writer.stdout!.once('data', resolve))
    const progress = new Database(file, { readonly: true })
    const count = (sql: string) => progress.prepare(sql).pluck().get() as number
    let hookline = first
    const kills: string[] = []
    try {
      // Kill while the writer writes, at least MIN_KILLS times, at random moments: most a
      // little after start-up (capture and delivery busy), one during start-up.
      while ((writing || kills.length < MIN_KILLS) && kills.length < MAX_KILLS) {
        let ready = false
        if (kills.length === 1) await delay(randomBetween(200, 1000))
        else {
          await hookline.ready
          ready = true
          await delay(randomBetween(0, 600))
        }
        hookline.child.kill('SIGKILL')
        await exited(hookline.child)
        kills.push(
          `${ready ? 'running' : 'starting'}: ${count("SELECT count(*) FROM deal WHERE name LIKE 'crash test deal %'")} deals, ${count('SELECT count(*) FROM hookline_messages')} messages, ${receiver.received.length} received`,
        )
        hookline = startHookline()
      }
    } finally {
      progress.close()
    }
    await hookline.ready
    expect(await writerExit).toBe(0)
    expect(kills.length).toBeGreaterThanOrEqual(MIN_KILLS)

    const db = new Database(file, { readonly: true })
    try {
      const dealIds = db
        .prepare("SELECT id FROM deal WHERE name LIKE 'crash test deal %' ORDER BY id")
        .pluck()
        .all() as number[]
      expect(dealIds).toHaveLength(DEALS)
      const messagesOf = db.prepare(
        "SELECT id, row_id AS rowId FROM hookline_messages WHERE event = 'NewOpportunity' ORDER BY row_id",
      )
      const received = () => new Set(receiver!.received.map((r) => r.headers['webhook-id']))
      await waitUntil(
        () => {
          const ids = messagesOf.all() as { id: string }[]
          const got = received()
          return ids.length >= DEALS && ids.every((m) => got.has(m.id))
        },
        () =>
          `${messagesOf.all().length} messages, ${received().size} received\n${hookline.output()}`,
        30_000,
      )

      // Exactly one message per deal, none for anything else.
      const messages = messagesOf.all() as { id: string; rowId: number }[]
      expect(messages.map((m) => m.rowId)).toEqual(dealIds)
      expect(db.prepare('SELECT count(*) FROM hookline_changes').pluck().get()).toBe(0)
      expect(db.prepare('SELECT count(*) FROM hookline_deliveries').pluck().get()).toBe(DEALS)

      // Every one received, signed; a repeat is the same message with the same webhook-id.
      const webhook = new Webhook(subscription.secret)
      const idByDeal = new Map<number, string>()
      for (const r of receiver.received) {
        const body = webhook.verify(r.body, r.headers as Record<string, string>) as {
          id: string
          data: { id: number }
        }
        expect(body.id).toBe(r.headers['webhook-id'])
        const seen = idByDeal.get(body.data.id)
        if (seen) expect(body.id).toBe(seen)
        idByDeal.set(body.data.id, body.id)
      }
      expect([...idByDeal.keys()].sort((a, b) => a - b)).toEqual(dealIds)
      expect(new Map(messages.map((m) => [m.rowId, m.id]))).toEqual(idByDeal)

      console.info(
        `crash test: ${DEALS} deals, ${kills.length} kills, ${receiver.received.length - DEALS} repeated deliveries, ${Date.now() - startedAt} ms\n  ${kills.join('\n  ')}`,
      )
    } finally {
      db.close()
    }
  })
})
