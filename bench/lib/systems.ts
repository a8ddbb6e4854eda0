import { randomBytes } from 'node:crypto'
import Database from 'better-sqlite3'
import { Queue } from 'bullmq'
import pg from 'pg'
import type { HooklineArgs, HooklineDb } from '../procs/hookline.ts'
import type { AppDb, WriterSink } from '../procs/writer.ts'
import { type BaselineSub, bullmqConnection } from './baselines.ts'
import { type BenchContext, dbFile, PG_URL } from './context.ts'
import { newSecret } from './payload.ts'
import { hooklineNodeFlags, type Proc, startProc } from './proc.ts'

/** A sender under test, set up for a set of target URLs, and the sink its writer uses. */
export interface Running {
  readonly sink: WriterSink
  /** The sender's process (RSS, stop). */
  readonly proc: Proc
  teardown(): Promise<void>
}

export type SystemName =
  | 'hookline-sqlite'
  | 'hookline-pg'
  | 'hookline-pg-notify'
  | 'pgboss'
  | 'bullmq'
  | 'bullmq-pg'

export const SYSTEM_LABELS: Record<SystemName | 'undici', string> = {
  'hookline-sqlite': 'Hookline · SQLite',
  'hookline-pg': 'Hookline · PostgreSQL',
  'hookline-pg-notify': 'Hookline · PostgreSQL, capture.notify',
  pgboss: 'pg-boss 10 + undici',
  bullmq: 'BullMQ + undici',
  'bullmq-pg': 'BullMQ + undici, app on PostgreSQL',
  undici: 'bare undici Pool (limit)',
}

/**
 * The systems measured in this run (PostgreSQL ones only when it is reachable); with
 * `variants`, also Hookline's opt-in settings (PostgreSQL with capture.notify).
 */
export function systems(ctx: BenchContext, withBaselines = true, variants = false): SystemName[] {
  const out: SystemName[] = ['hookline-sqlite']
  if (!ctx.pgUnavailable) out.push('hookline-pg')
  if (!ctx.pgUnavailable && variants) out.push('hookline-pg-notify')
  if (withBaselines) {
    if (!ctx.pgUnavailable) out.push('pgboss')
    out.push('bullmq')
    if (!ctx.pgUnavailable) out.push('bullmq-pg')
  }
  return ctx.onlySystems ? out.filter((s) => ctx.onlySystems!.includes(s)) : out
}

const sqliteAppTable = `CREATE TABLE IF NOT EXISTS bench_row (id INTEGER PRIMARY KEY, ts REAL NOT NULL, payload TEXT NOT NULL)`
const pgAppTable = `CREATE TABLE IF NOT EXISTS bench_row (id bigserial PRIMARY KEY, ts float8 NOT NULL, payload text NOT NULL)`

/** Runs SQL on the benchmark database with one short connection. */
export async function pgAdmin(sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL })
  await client.connect()
  try {
    await client.query(sql)
  } finally {
    await client.end()
  }
}

/** Fresh schemas (dropped at teardown) and a URL whose search_path is the app's schema. */
export async function pgSchemas(): Promise<{
  url: string
  app: string
  own: string
  drop(): Promise<void>
}> {
  const suffix = randomBytes(5).toString('hex')
  const app = `bench_app_${suffix}`
  const own = `bench_hl_${suffix}`
  await pgAdmin(`CREATE SCHEMA ${app}`)
  const u = new URL(PG_URL)
  u.searchParams.set('options', `-c search_path=${app}`)
  return {
    url: u.toString(),
    app,
    own,
    drop: () =>
      pgAdmin(`DROP SCHEMA IF EXISTS ${app} CASCADE; DROP SCHEMA IF EXISTS ${own} CASCADE`),
  }
}

export async function startHookline(args: HooklineArgs): Promise<Proc> {
  const proc = startProc('hookline', args, hooklineNodeFlags)
  await proc.next('ready', 120_000)
  return proc
}

/** Starts `system` delivering to `targets` (one subscription each). */
export async function setUp(
  ctx: BenchContext,
  system: SystemName,
  targets: readonly string[],
  options: { delivery?: HooklineArgs['delivery'] } = {},
): Promise<Running> {
  const subs: BaselineSub[] = targets.map((url) => ({ url, secret: newSecret() }))
  // The command line (`--hookline-delivery`) wins over the scenario.
  options = { delivery: { ...options.delivery, ...ctx.hooklineDelivery } }
  switch (system) {
    case 'hookline-sqlite': {
      const file = dbFile(ctx, 'hookline')
      const db: HooklineDb = { kind: 'sqlite', file }
      const proc = await startHookline({ db, targets, ...options })
      return {
        sink: { kind: 'app', app: { kind: 'sqlite', file }, table: 'bench_row' },
        proc,
        teardown: () => proc.stop(20_000),
      }
    }
    case 'hookline-pg':
    case 'hookline-pg-notify': {
      const s = await pgSchemas()
      const proc = await startHookline({
        db: { kind: 'pg', url: s.url, schema: s.own },
        targets,
        ...options,
        ...(system === 'hookline-pg-notify' ? { capture: { notify: true } } : {}),
      })
      return {
        sink: {
          kind: 'app',
          app: { kind: 'pg', url: s.url, connections: 4 },
          table: 'bench_row',
        },
        proc,
        teardown: async () => {
          await proc.stop(20_000)
          await s.drop()
        },
      }
    }
    case 'pgboss': {
      const s = await pgSchemas()
      await pgAdmin(`SET search_path = ${s.app}; ${pgAppTable}`)
      const proc = startProc('pgboss-worker', {
        url: s.url,
        schema: s.own,
        workers: 4,
        batchSize: 100,
      })
      await proc.next('ready', 60_000)
      return {
        sink: { kind: 'pgboss', url: s.url, table: 'bench_row', schema: s.own, subs },
        proc,
        teardown: async () => {
          await proc.stop(20_000)
          await s.drop()
        },
      }
    }
    case 'bullmq':
    case 'bullmq-pg': {
      let app: AppDb
      let dropApp = async () => {}
      if (system === 'bullmq') {
        const file = dbFile(ctx, 'bullmq-app')
        const db = new Database(file)
        db.pragma('journal_mode = WAL')
        db.exec(sqliteAppTable)
        db.close()
        app = { kind: 'sqlite', file }
      } else {
        const s = await pgSchemas()
        await pgAdmin(`SET search_path = ${s.app}; ${pgAppTable}`)
        app = { kind: 'pg', url: s.url, connections: 4 }
        dropApp = () => s.drop()
      }
      const queue = `bench-${randomBytes(5).toString('hex')}`
      const proc = startProc('bullmq-worker', { queue, concurrency: 128 })
      await proc.next('ready', 60_000)
      return {
        sink: { kind: 'bullmq', app, table: 'bench_row', queue, subs },
        proc,
        teardown: async () => {
          await proc.stop(20_000)
          const q = new Queue(queue, { connection: bullmqConnection() })
          await q.obliterate({ force: true })
          await q.close()
          await dropApp()
        },
      }
    }
  }
}

export function baselineSubs(targets: readonly string[]): BaselineSub[] {
  return targets.map((url) => ({ url, secret: newSecret() }))
}
