import { type BenchContext, dbFile } from '../lib/context.ts'
import { reached, receiverReport, resetReceiver, runWriter } from '../lib/measure.ts'
import { epochMs, type Proc } from '../lib/proc.ts'
import type { BacklogResult } from '../lib/results.ts'
import { spread } from '../lib/stats.ts'
import { pgSchemas, startHookline } from '../lib/systems.ts'
import type { HooklineDb } from '../procs/hookline.ts'
import type { WriterSink } from '../procs/writer.ts'

const SUBSCRIPTIONS = 100

interface Stats {
  maxRss: number
  rss: number
  pendingChanges: number
}

async function stats(proc: Proc): Promise<Stats> {
  proc.send({ type: 'stats' })
  return (await proc.next('stats', 60_000)) as unknown as Stats
}

/**
 * Scenario 6: a backlog of pending deliveries to 100 subscriptions (a receiver that serves
 * many of them was down), then the receiver comes up, on each database. The backlog is
 * built by a Hookline that captures but holds delivery (concurrency 0), as when every
 * target was unreachable; a fresh Hookline process then drains it. Reported: its peak RSS
 * (getrusage maxrss) and deliveries/s.
 */
export async function backlog(ctx: BenchContext): Promise<BacklogResult[]> {
  const out: BacklogResult[] = []
  for (const db of ['sqlite', 'pg'] as const) {
    if (db === 'pg' && ctx.pgUnavailable) continue
    const system = db === 'pg' ? 'hookline-pg' : 'hookline-sqlite'
    if (ctx.onlySystems && !ctx.onlySystems.includes(system)) continue
    out.push(await backlogOn(ctx, db))
  }
  return out
}

async function backlogOn(ctx: BenchContext, kind: 'sqlite' | 'pg'): Promise<BacklogResult> {
  const total = ctx.params.backlogDeliveries
  const rows = Math.ceil(total / SUBSCRIPTIONS)
  const port = ctx.receiverPorts[0]
  const targets = Array.from(
    { length: SUBSCRIPTIONS },
    (_, i) => `http://127.0.0.1:${port}/ok/b${i}`,
  )
  const build: number[] = []
  const buildRss: number[] = []
  const rates: number[] = []
  const rss: number[] = []
  let note: string | undefined
  for (let run = 0; run < ctx.params.backlogRuns; run++) {
    const place = await backlogDatabase(ctx, kind)
    try {
      const holder = await startHookline({ db: place.db, targets, delivery: { concurrency: 0 } })
      const t0 = epochMs()
      await runWriter(place.sink, { kind: 'burst', rows, batch: 500 })
      let s = await stats(holder)
      while (s.pendingChanges > 0) {
        await new Promise((resolve) => setTimeout(resolve, 500))
        s = await stats(holder)
      }
      build.push((epochMs() - t0) / 1000)
      buildRss.push(s.maxRss / 2 ** 20)
      await holder.stop(60_000)
      ctx.log(
        `  backlog ${kind}: ${rows * SUBSCRIPTIONS} pending deliveries built in ${build.at(-1)!.toFixed(1)} s`,
      )

      const expect = rows * SUBSCRIPTIONS
      const gen = await resetReceiver(ctx, expect)
      const drainer = await startHookline({ db: place.db, targets })
      let peak = 0
      const sampler = setInterval(() => {
        stats(drainer)
          .then((x) => {
            peak = Math.max(peak, x.maxRss)
          })
          .catch(() => {})
      }, 2000)
      const done = await reached(ctx, gen, 1_800_000)
      clearInterval(sampler)
      peak = Math.max(peak, (await stats(drainer)).maxRss)
      await drainer.stop(60_000)
      if (!done) {
        const r = await receiverReport(ctx)
        note = `${r.ok} of ${expect} delivered before the time limit`
      }
      const rate = done ? (expect * 1000) / (done.last - done.first) : Number.NaN
      rates.push(rate)
      rss.push(peak / 2 ** 20)
      ctx.log(
        `  backlog ${kind} drain: ${Math.round(rate)}/s, peak RSS ${(peak / 2 ** 20).toFixed(0)} MB`,
      )
    } finally {
      await place.drop()
    }
  }
  return {
    db: kind,
    deliveries: rows * SUBSCRIPTIONS,
    buildSeconds: spread(build),
    drainRate: spread(rates),
    peakRssMb: spread(rss),
    buildPeakRssMb: spread(buildRss),
    ...(note ? { note } : {}),
  }
}

/** A fresh database for one backlog run: a SQLite file, or PostgreSQL schemas. */
async function backlogDatabase(ctx: BenchContext, kind: 'sqlite' | 'pg') {
  if (kind === 'sqlite') {
    const file = dbFile(ctx, 'backlog')
    return {
      db: { kind, file } as HooklineDb,
      sink: { kind: 'app', app: { kind, file }, table: 'bench_row' } as WriterSink,
      drop: async () => {},
    }
  }
  const s = await pgSchemas()
  return {
    db: { kind, url: s.url, schema: s.own } as HooklineDb,
    sink: {
      kind: 'app',
      app: { kind, url: s.url, connections: 4 },
      table: 'bench_row',
    } as WriterSink,
    drop: () => s.drop(),
  }
}
