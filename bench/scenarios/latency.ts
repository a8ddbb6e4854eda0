import type { BenchContext } from '../lib/context.ts'
import { endToEnd } from '../lib/measure.ts'
import type { LatencyResult } from '../lib/results.ts'
import { spread } from '../lib/stats.ts'
import { type SystemName, setUp, systems } from '../lib/systems.ts'

/** Scenario 2: one row per transaction at a fixed rate; commit-to-receipt percentiles. */
export async function latency(ctx: BenchContext): Promise<LatencyResult[]> {
  const { runs, latencyRates, latencyDurationMs } = ctx.params
  const targets = [`http://127.0.0.1:${ctx.receiverPorts[0]}/ok/latency`]
  const out: LatencyResult[] = []
  for (const rate of latencyRates) {
    const samples = new Map<SystemName, { p50: number; p95: number; p99: number; max: number }[]>()
    const notes = new Map<SystemName, string>()
    const running = new Map<SystemName, Awaited<ReturnType<typeof setUp>>>()
    try {
      for (const system of systems(ctx, true, true))
        running.set(system, await setUp(ctx, system, targets))
      // One short unrecorded second each first, to warm up (JIT, connections, caches).
      for (const r of running.values())
        await endToEnd(ctx, r.sink, { kind: 'rate', rate, durationMs: 1000 }, rate, 60_000)
      for (let run = 0; run < runs; run++) {
        for (const [system, r] of running) {
          const rows = Math.round((rate * latencyDurationMs) / 1000)
          const res = await endToEnd(
            ctx,
            r.sink,
            { kind: 'rate', rate, durationMs: latencyDurationMs },
            rows,
            60_000,
          )
          const l = res.report.latency
          const achieved = (res.writer.rows * 1000) / (res.writer.finished - res.writer.started)
          if (achieved < rate * 0.9)
            notes.set(system, `the writer reached only ${Math.round(achieved)} rows/s`)
          if (!res.done) notes.set(system, `${res.report.ok} of ${rows} received in time`)
          if (l) samples.set(system, [...(samples.get(system) ?? []), l])
          ctx.log(
            `  latency ${system} ${rate}/s run ${run + 1}: p50 ${l?.p50.toFixed(1)} p99 ${l?.p99.toFixed(1)} max ${l?.max.toFixed(1)} ms`,
          )
        }
      }
    } finally {
      for (const r of running.values()) await r.teardown()
    }
    for (const [system, s] of samples) {
      const note = notes.get(system)
      out.push({
        system,
        rate,
        p50: spread(s.map((x) => x.p50)),
        p95: spread(s.map((x) => x.p95)),
        p99: spread(s.map((x) => x.p99)),
        max: spread(s.map((x) => x.max)),
        ...(note ? { note } : {}),
      })
    }
  }
  return out
}
