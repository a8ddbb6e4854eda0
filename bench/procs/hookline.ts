// Hookline as a user embeds it: one event (BenchRow) fired by inserts into a tracked table,
// its payload built from the row the way the demo's builders do, on SQLite or PostgreSQL.
import type { CaptureConfig, DeliveryConfig } from '../../src/config/define-config.ts'
import { type BuildManyContext, defineEvent } from '../../src/events/define-event.ts'
import { createHookline, type Hookline } from '../../src/hookline.ts'
import { openStore } from '../../src/storage/open-store.ts'
import { defineTracking } from '../../src/tracking/define-tracking.ts'
import { fail, onMessages, procArgs, reply } from '../lib/proc.ts'

export type HooklineDb =
  | { readonly kind: 'sqlite'; readonly file: string }
  | { readonly kind: 'pg'; readonly url: string; readonly schema: string }

export interface HooklineArgs {
  readonly db: HooklineDb
  /** Target URLs, one subscription to BenchRow each. */
  readonly targets: readonly string[]
  readonly delivery?: DeliveryConfig
  readonly capture?: CaptureConfig
  /** Track `bench_row` (default true); `bench_plain` is never tracked. */
  readonly track?: boolean
}

export const SQLITE_TABLES = `
CREATE TABLE IF NOT EXISTS bench_row (id INTEGER PRIMARY KEY, ts REAL NOT NULL, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bench_plain (id INTEGER PRIMARY KEY, ts REAL NOT NULL, payload TEXT NOT NULL);`

export const PG_TABLES = `
CREATE TABLE IF NOT EXISTS bench_row (id bigserial PRIMARY KEY, ts float8 NOT NULL, payload text NOT NULL);
CREATE TABLE IF NOT EXISTS bench_plain (id bigserial PRIMARY KEY, ts float8 NOT NULL, payload text NOT NULL);`

const BenchRow = defineEvent({
  description: 'A row was inserted into bench_row',
  table: 'bench_row',
  async build({ rowId, db }) {
    const row = await db.one('SELECT id, ts, payload FROM bench_row WHERE id = ?', [rowId])
    return { id: Number(row.id), ts: Number(row.ts), payload: row.payload as string }
  },
  // A whole batch of changes in one query, as the docs recommend for busy tables;
  // HOOKLINE_BENCH_BUILD=one measures `build` alone (one query per row).
  ...(process.env.HOOKLINE_BENCH_BUILD === 'one' ? {} : { buildMany }),
  sample: { id: 1, ts: 0, payload: '' },
})

async function buildMany({ rowIds, db }: BuildManyContext) {
  const rows = await db.all(
    `SELECT id, ts, payload FROM bench_row WHERE id IN (${rowIds.map(() => '?').join(', ')})`,
    rowIds,
  )
  const byId = new Map(rows.map((r) => [Number(r.id), r]))
  return rowIds.map((id) => {
    const row = byId.get(Number(id))!
    return { id: Number(row.id), ts: Number(row.ts), payload: row.payload as string }
  })
}

const benchRowTracking = defineTracking({
  onChange(change, { trigger }) {
    if (change.action === 'insert') trigger('BenchRow', change.rowId)
  },
})

async function open(args: HooklineArgs): Promise<Hookline> {
  const store =
    args.db.kind === 'sqlite'
      ? await openStore(`sqlite:${args.db.file}`)
      : await openStore(args.db.url, { postgres: { schema: args.db.schema } })
  await store.exec(args.db.kind === 'sqlite' ? SQLITE_TABLES : PG_TABLES)
  return createHookline({
    database: store,
    events: { BenchRow },
    tracking: args.track === false ? {} : { bench_row: benchRowTracking },
    delivery: { allowPrivateTargets: true, ...args.delivery },
    ...(args.capture ? { capture: args.capture } : {}),
  })
}

try {
  const args = procArgs<HooklineArgs>()
  const hookline = await open(args)
  // Subscriptions go in 500 at a time through the same service as the REST API.
  for (let i = 0; i < args.targets.length; i += 500)
    await Promise.all(
      args.targets
        .slice(i, i + 500)
        .map((targetUrl) => hookline.subscriptions.subscribe({ event: 'BenchRow', targetUrl })),
    )
  await hookline.start()
  onMessages(
    async (m) => {
      if (m.type === 'stats') {
        reply({
          type: 'stats',
          maxRss: process.resourceUsage().maxRSS * 1024,
          rss: process.memoryUsage().rss,
          pendingChanges: await hookline.store.countPendingChanges(),
        })
      }
    },
    () => hookline.stop(),
  )
  reply({ type: 'ready' })
} catch (error) {
  fail(error)
}
