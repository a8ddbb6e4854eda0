import { execFileSync } from 'node:child_process'
import { Webhook } from 'standardwebhooks'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliProcess, startCli } from '../helpers/cli-process.ts'
import { DEMO_CONFIG } from '../helpers/demo.ts'
import { createTestSchemas } from '../helpers/postgres.ts'
import { type Receiver, startReceiver } from '../helpers/receiver.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

/** A database for the demo CRM: how to run Hookline on it, and another program that writes it. */
interface Backend {
  readonly name: string
  open(): Promise<{
    /** `hookline …` arguments that serve the demo CRM on this database. */
    readonly args: string[]
    /** Runs SQL with the database's own command-line client. */
    write(sql: string): void
    dispose(): Promise<void>
  }>
}

const dir = tempDir()
const backends: Backend[] = [
  {
    name: 'SQLite',
    async open() {
      const file = tempDbPath(dir)
      return {
        args: ['dev', '--database', `sqlite:${file}`],
        write: (sql) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', file, sql]),
        dispose: async () => {},
      }
    },
  },
  {
    name: 'PostgreSQL',
    async open() {
      const schemas = await createTestSchemas()
      return {
        args: [
          'start',
          ...['--config', DEMO_CONFIG, '--database', schemas.url],
          ...['--schema', schemas.hooklineSchema, '--host', '127.0.0.1', '--allow-private-targets'],
        ],
        write: (sql) =>
          execFileSync('psql', [schemas.url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], {
            stdio: 'pipe',
          }),
        dispose: () => schemas.drop(),
      }
    },
  },
]

// The seed's scenario: an integration subscribes to NewOpportunity, then a deal that is a
// project is inserted by another program, and the subscriber receives the event's data.
describe.each(backends)('the seed scenario on $name, end to end', (backend) => {
  const apiKey = 'hk_test_seed_scenario'
  let database: Awaited<ReturnType<Backend['open']>>
  let hookline: CliProcess
  let zap: Receiver
  let witness: Receiver

  const api = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown) => {
    const res = await request(`${hookline.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    })
    const text = await res.body.text()
    return { status: res.statusCode, body: text ? JSON.parse(text) : null }
  }
  /** Another program writes the CRM's database: the database's command-line client. */
  const insertDeal = (name: string, isProject: 0 | 1) =>
    database.write(
      `INSERT INTO deal (name, amount, is_project) VALUES ('${name}', 5000, ${isProject})`,
    )

  beforeAll(async () => {
    database = await backend.open()
    zap = await startReceiver('/zap')
    witness = await startReceiver('/witness')
    hookline = await startCli([...database.args, '--port', '0'], { HOOKLINE_API_KEY: apiKey })
  })
  afterAll(async () => {
    await hookline?.stop()
    await zap?.close()
    await witness?.close()
    await database?.dispose()
  })

  it('delivers a signed NewOpportunity for a project deal, nothing for others, nothing after unsubscribe', async () => {
    const sub = await api('POST', '/api/v1/webhooks/subscribe', {
      event: 'NewOpportunity',
      target_url: zap.url,
    })
    expect(sub.status).toBe(201)
    // A second subscriber shows when an event has been processed, so "nothing" is checked without sleeping.
    const w = await api('POST', '/api/v1/webhooks/subscribe', {
      event: 'NewOpportunity',
      hookUrl: witness.url,
    })
    expect(w.status).toBe(201)

    insertDeal('Not a project', 0)
    insertDeal('Website redesign', 1)
    const [received] = await zap.waitFor(1)
    await witness.waitFor(1)
    const event = new Webhook(sub.body.secret).verify(
      received!.body,
      received!.headers as Record<string, string>,
    ) as any
    expect(event).toMatchObject({
      type: 'NewOpportunity',
      data: { name: 'Website redesign', is_project: true },
    })

    expect((await api('DELETE', `/api/v1/webhooks/subscriptions/${sub.body.id}`)).status).toBe(204)
    insertDeal('After unsubscribe', 1)
    await witness.waitFor(2)
    // Both subscribers' deliveries of a change are created together: the witness got it, so
    // had one been made for the removed subscription, it would be listed.
    const zapDeliveries = await api('GET', `/api/v1/deliveries?subscription_id=${sub.body.id}`)
    expect(zapDeliveries.body).toHaveLength(1)
    expect(zap.received).toHaveLength(1)
    expect(witness.received.map((r) => JSON.parse(r.body).data.name)).toEqual([
      'Website redesign',
      'After unsubscribe',
    ])
  })
})
