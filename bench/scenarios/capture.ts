import { type BenchContext, dbFile } from '../lib/context.ts'
import { runWriter } from '../lib/measure.ts'
import type { CaptureResult } from '../lib/results.ts'
import { spread } from '../lib/stats.ts'
import { pgSchemas, startHookline } from '../lib/systems.ts'
import type { WriterSink } from '../procs/writer.ts'

type Variant = CaptureResult['variant']

/**
 * Scenario 4: the application's insert rate (one row per transaction) into a table with
 * Hookline's capture triggers vs the same table without, with Hookline consuming the
 * change log (no subscriptions: capture alone), then with the triggers alone.
 */
export async function capture(ctx: BenchContext): Promise<CaptureResult[]> {
  const out: CaptureResult[] = []
  for (const db of ctx.pgUnavailable ? (['sqlite'] as const) : (['sqlite', 'pg'] as const)) {
    const rows = db === 'sqlite' ? ctx.params.captureRowsSqlite : ctx.params.captureRowsPg
    const rates = new Map<Variant, number[]>()
    const measure = async (variant: Variant, sink: WriterSink) => {
      const w = await runWriter(sink, { kind: 'burst', rows, batch: 1 })
      const rate = (w.rows * 1000) / (w.finished - w.started)
      rates.set(variant, [...(rates.get(variant) ?? []), rate])
      ctx.log(`  capture ${db} ${variant}: ${Math.round(rate)} rows/s`)
    }
    const schemas = db === 'pg' ? await pgSchemas() : null
    try {
      const file = dbFile(ctx, 'capture')
      const hookline = await startHookline({
        db: schemas
          ? { kind: 'pg', url: schemas.url, schema: schemas.own }
          : { kind: 'sqlite', file },
        targets: [],
      })
      const sink = (table: string): WriterSink =>
        schemas
          ? { kind: 'app', app: { kind: 'pg', url: schemas.url, connections: 4 }, table }
          : { kind: 'app', app: { kind: 'sqlite', file }, table }
      for (let run = 0; run < ctx.params.runs; run++) {
        await measure('untracked', sink('bench_plain'))
        await measure('tracked, Hookline running', sink('bench_row'))
      }
      await hookline.stop(20_000)
      for (let run = 0; run < ctx.params.runs; run++) {
        await measure('untracked', sink('bench_plain'))
        await measure('tracked, triggers only', sink('bench_row'))
      }
    } finally {
      await schemas?.drop()
    }
    for (const [variant, r] of rates) out.push({ db, variant, rate: spread(r) })
  }
  return out
}
