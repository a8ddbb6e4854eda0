// The application: a separate process that inserts rows into a table, each carrying the
// time it was committed (`ts`, taken just before its single-statement transaction).
// Sinks: a SQLite file, PostgreSQL, or a do-it-yourself baseline that writes the row and
// enqueues one delivery job per subscriber (BullMQ on Redis, pg-boss on PostgreSQL).
import Database from 'better-sqlite3'
import { Queue } from 'bullmq'
import pg from 'pg'
import PgBoss from 'pg-boss'
import { type BaselineSub, bullmqConnection, jobsFor, PG_BOSS_QUEUE } from '../lib/baselines.ts'
import { ROW_PAYLOAD } from '../lib/payload.ts'
import { epochMs, fail, procArgs, reply } from '../lib/proc.ts'

/** The application's own database, where its rows are written. */
export type AppDb =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'pg'; readonly url: string; readonly connections: number }

export type WriterSink =
  /** Rows only: Hookline's triggers capture them. */
  | { readonly kind: 'app'; readonly app: AppDb; readonly table: string }
  | {
      readonly kind: 'bullmq'
      readonly app: AppDb
      readonly table: string
      readonly queue: string
      readonly subs: readonly BaselineSub[]
    }
  | {
      readonly kind: 'pgboss'
      readonly url: string
      readonly table: string
      readonly schema: string
      readonly subs: readonly BaselineSub[]
    }

export type WriterMode =
  /** `rows` rows as fast as possible, `batch` rows per transaction. */
  | { readonly kind: 'burst'; readonly rows: number; readonly batch: number }
  /** One row per transaction at `rate` rows/s for `durationMs`. */
  | { readonly kind: 'rate'; readonly rate: number; readonly durationMs: number }

export interface WriterArgs {
  readonly sink: WriterSink
  readonly mode: WriterMode
}

/** Inserts rows (each with its `ts`) in one transaction; returns their ids. */
type InsertBatch = (tsList: number[]) => Promise<unknown>

interface Opened {
  insert: InsertBatch
  close(): Promise<void>
  /** Transactions in flight at once. */
  parallel: number
}

/** Rows written to the application's database; `insert` resolves with their ids. */
interface AppWriter extends Opened {
  insert(tsList: number[]): Promise<number[]>
}

function openApp(app: AppDb, table: string): AppWriter {
  if (app.kind === 'sqlite') {
    const db = new Database(app.file)
    db.pragma('busy_timeout = 10000')
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    const stmt = db.prepare(`INSERT INTO ${table} (ts, payload) VALUES (?, ?) RETURNING id`)
    const tx = db.transaction((tsList: number[]) =>
      tsList.map((ts) => (stmt.get(ts, ROW_PAYLOAD) as { id: number }).id),
    )
    return {
      insert: async (tsList) =>
        tsList.length === 1
          ? [(stmt.get(tsList[0], ROW_PAYLOAD) as { id: number }).id]
          : tx(tsList),
      close: async () => {
        db.close()
      },
      parallel: 1,
    }
  }
  const pool = new pg.Pool({ connectionString: app.url, max: app.connections })
  const ids = (rows: { id: string }[]) => rows.map((r) => Number(r.id))
  return {
    insert: async (tsList) => {
      if (tsList.length === 1) {
        const sql = `INSERT INTO ${table} (ts, payload) VALUES ($1, $2) RETURNING id`
        return ids((await pool.query(sql, [tsList[0], ROW_PAYLOAD])).rows)
      }
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const { rows } = await client.query(
          `INSERT INTO ${table} (ts, payload) SELECT unnest($1::float8[]), $2 RETURNING id`,
          [tsList, ROW_PAYLOAD],
        )
        await client.query('COMMIT')
        return ids(rows)
      } finally {
        client.release()
      }
    },
    close: () => pool.end(),
    parallel: app.connections,
  }
}

async function openSink(sink: WriterSink): Promise<Opened> {
  if (sink.kind === 'app') return openApp(sink.app, sink.table)
  if (sink.kind === 'bullmq') {
    // Do-it-yourself with BullMQ: the row is committed, then its jobs are added (a dual
    // write: a crash in between loses the event).
    const app = openApp(sink.app, sink.table)
    const queue = new Queue(sink.queue, { connection: bullmqConnection() })
    return {
      insert: async (tsList) => {
        const ids = await app.insert(tsList)
        const jobs = ids.flatMap((id, i) => jobsFor(sink.subs, id, tsList[i]!))
        await queue.addBulk(
          jobs.map((data) => ({
            name: 'deliver',
            data,
            opts: {
              attempts: 8,
              backoff: { type: 'exponential', delay: 5000 },
              removeOnComplete: true,
              removeOnFail: 10_000,
            },
          })),
        )
      },
      close: async () => {
        await queue.close()
        await app.close()
      },
      parallel: app.parallel,
    }
  }
  // Do-it-yourself with pg-boss: the row and its jobs in one transaction (pg-boss's `db`
  // option), so nothing is lost or doubled.
  const pool = new pg.Pool({ connectionString: sink.url, max: 4 })
  const boss = new PgBoss({
    connectionString: sink.url,
    schema: sink.schema,
    max: 2,
    supervise: false,
    schedule: false,
    migrate: false,
  })
  await boss.start()
  return {
    insert: async (tsList) => {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const { rows } = await client.query(
          `INSERT INTO ${sink.table} (ts, payload) SELECT unnest($1::float8[]), $2 RETURNING id`,
          [tsList, ROW_PAYLOAD],
        )
        const jobs = rows.flatMap((r: { id: string }, i) =>
          jobsFor(sink.subs, r.id, tsList[i]!).map((data) => ({
            name: PG_BOSS_QUEUE,
            data,
            retryLimit: 8,
            retryDelay: 5,
            retryBackoff: true,
          })),
        )
        await boss.insert(jobs, {
          db: { executeSql: (text, values) => client.query(text, values) },
        })
        await client.query('COMMIT')
      } catch (error) {
        await client.query('ROLLBACK')
        throw error
      } finally {
        client.release()
      }
    },
    close: async () => {
      await boss.stop({ graceful: false, wait: true })
      await pool.end()
    },
    parallel: 4,
  }
}

async function burst(insert: InsertBatch, parallel: number, rows: number, batch: number) {
  let next = 0
  const lane = async () => {
    while (next < rows) {
      const n = Math.min(batch, rows - next)
      next += n
      const ts = epochMs()
      await insert(Array.from({ length: n }, () => ts))
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane))
  return rows
}

/**
 * One row per transaction on a fixed schedule, as an application serving requests: each
 * row is written at its time even while earlier ones are still committing (up to
 * `parallel` at once, the sink's connections); a late tick catches up at once.
 */
async function atRate(insert: InsertBatch, parallel: number, rate: number, durationMs: number) {
  const total = Math.round((rate * durationMs) / 1000)
  const start = epochMs()
  let sent = 0
  const lane = async () => {
    while (sent < total) {
      const wait = start + (sent++ * 1000) / rate - epochMs()
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
      await insert([epochMs()])
    }
  }
  await Promise.all(Array.from({ length: parallel }, lane))
  return total
}

try {
  const { sink, mode } = procArgs<WriterArgs>()
  const { insert, close, parallel } = await openSink(sink)
  reply({ type: 'ready' })
  const started = epochMs()
  const rows =
    mode.kind === 'burst'
      ? await burst(insert, parallel, mode.rows, mode.batch)
      : await atRate(insert, parallel, mode.rate, mode.durationMs)
  const finished = epochMs()
  await close()
  reply({ type: 'done', rows, started, finished })
  process.disconnect?.()
} catch (error) {
  fail(error)
}
