import type { BenchContext } from '../lib/context.ts'
import { endToEnd } from '../lib/measure.ts'
import type { FanoutResult } from '../lib/results.ts'
import { spread } from '../lib/stats.ts'
import { type SystemName, setUp, systems } from '../lib/systems.ts'
import { bareUndici } from './throughput.ts'

/** Scenario 3: one event to 1,000 subscriptions over a few receiver ports. */
export async function fanout(ctx: BenchContext): Promise<FanoutResult[]> {
  const n = ctx.params.fanoutSubscriptions
  const ports = ctx.receiverPorts.slice(0, ctx.params.fanoutPorts)
  const targets = Array.from(
    { length: n },
    (_, i) => `http://127.0.0.1:${ports[i % ports.length]}/ok/f${i}`,
  )
  const times = new Map<SystemName | 'undici', number[]>()
  const add = (s: SystemName | 'undici', ms: number) => times.set(s, [...(times.get(s) ?? []), ms])
  const running = new Map<SystemName, Awaited<ReturnType<typeof setUp>>>()
  try {
    for (const system of systems(ctx)) running.set(system, await setUp(ctx, system, targets))
    for (let run = 0; run < ctx.params.runs + 1; run++) {
      add('undici', (await bareUndici(ctx, targets, 1)).ms)
      for (const [system, r] of running) {
        const res = await endToEnd(ctx, r.sink, { kind: 'burst', rows: 1, batch: 1 }, n, 60_000)
        const ms = res.done ? res.done.last - res.writer.started : Number.NaN
        add(system, ms)
        ctx.log(`  fan-out ${system} run ${run + 1}: ${ms.toFixed(0)} ms`)
      }
    }
  } finally {
    for (const r of running.values()) await r.teardown()
  }
  return [...times].map(([system, ms]) => ({ system, subscriptions: n, ms: spread(ms) }))
}
