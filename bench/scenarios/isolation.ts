import type { BenchContext } from '../lib/context.ts'
import { endToEnd } from '../lib/measure.ts'
import type { IsolationResult } from '../lib/results.ts'
import { spread } from '../lib/stats.ts'
import { type SystemName, setUp } from '../lib/systems.ts'

type Config = IsolationResult['config']

/**
 * Scenario 5: 20 healthy targets plus one that never answers and one that answers in 2 s,
 * against 22 healthy ones: the healthy targets' commit-to-receipt latency. Hookline runs
 * with its production defaults (15 s timeout, 16 attempts in flight per subscription).
 */
export async function isolation(ctx: BenchContext): Promise<IsolationResult[]> {
  const port = ctx.receiverPorts[0]
  const healthy = (n: number) =>
    Array.from({ length: n }, (_, i) => `http://127.0.0.1:${port}/ok/i${i}`)
  const configs: Record<Config, string[]> = {
    'all healthy': healthy(22),
    'with 1 hanging + 1 slow': [
      ...healthy(20),
      `http://127.0.0.1:${port}/hang/1`,
      `http://127.0.0.1:${port}/slow/1`,
    ],
  }
  const out: IsolationResult[] = []
  const dbs: SystemName[] = ctx.pgUnavailable
    ? ['hookline-sqlite']
    : ['hookline-sqlite', 'hookline-pg']
  const { isolationRate: rate, isolationDurationMs: durationMs } = ctx.params
  for (const system of dbs) {
    const samples = new Map<Config, { p50: number; p99: number; max: number }[]>()
    const notes = new Map<Config, string>()
    for (let run = 0; run < ctx.params.runs; run++) {
      for (const [config, targets] of Object.entries(configs) as [Config, string[]][]) {
        const r = await setUp(ctx, system, targets)
        const healthyCount = targets.filter((t) => t.includes('/ok/')).length
        const expect = Math.round((rate * durationMs) / 1000) * healthyCount
        try {
          const res = await endToEnd(
            ctx,
            r.sink,
            { kind: 'rate', rate, durationMs },
            expect,
            60_000,
          )
          const l = res.report.latency
          if (!res.done)
            notes.set(config, `${res.report.ok} of ${expect} healthy deliveries in time`)
          if (l) samples.set(config, [...(samples.get(config) ?? []), l])
          ctx.log(
            `  isolation ${system} ${config} run ${run + 1}: p50 ${l?.p50.toFixed(1)} p99 ${l?.p99.toFixed(1)} ms`,
          )
        } finally {
          // A hanging attempt holds a clean stop for its whole timeout: kill after a short grace.
          await r.proc.stop(3000)
          await r.teardown()
        }
      }
    }
    for (const [config, s] of samples) {
      const note = notes.get(config)
      out.push({
        db: system === 'hookline-pg' ? 'pg' : 'sqlite',
        config,
        p50: spread(s.map((x) => x.p50)),
        p99: spread(s.map((x) => x.p99)),
        max: spread(s.map((x) => x.max)),
        ...(note ? { note } : {}),
      })
    }
  }
  return out
}
