import type { BenchContext } from '../lib/context.ts'
import { endToEnd, reached, resetReceiver } from '../lib/measure.ts'
import { startProc } from '../lib/proc.ts'
import type { ThroughputResult } from '../lib/results.ts'
import { spread } from '../lib/stats.ts'
import { baselineSubs, type SystemName, setUp, systems } from '../lib/systems.ts'

export const SUBSCRIPTION_COUNTS = [1, 10, 100] as const

const targetsFor = (ctx: BenchContext, n: number) =>
  Array.from({ length: n }, (_, i) => `http://127.0.0.1:${ctx.receiverPorts[0]}/ok/t${i}`)

/** The bare-undici limit: the same number of signed POSTs, no storage. */
export async function bareUndici(
  ctx: BenchContext,
  targets: readonly string[],
  messages: number,
): Promise<{ rate: number; ms: number }> {
  const expect = messages * targets.length
  const gen = await resetReceiver(ctx, expect)
  const proc = startProc('bare-undici', {
    subs: baselineSubs(targets),
    messages,
    connections: 64,
  })
  try {
    const done = (await proc.next('done', 300_000)) as unknown as { started: number }
    const got = await reached(ctx, gen, 30_000)
    if (!got) return { rate: Number.NaN, ms: Number.NaN }
    const ms = got.last - done.started
    return { rate: (expect * 1000) / ms, ms }
  } finally {
    await proc.stop(2000)
  }
}

/** Scenario 1: N rows by a separate writer → N × subscriptions deliveries, deliveries/s. */
export async function throughput(ctx: BenchContext): Promise<ThroughputResult[]> {
  const { runs, throughputDeliveries } = ctx.params
  const out: ThroughputResult[] = []
  for (const subs of SUBSCRIPTION_COUNTS) {
    if (ctx.onlySubs && !ctx.onlySubs.includes(subs)) continue
    const targets = targetsFor(ctx, subs)
    const rows = Math.ceil(throughputDeliveries / subs)
    const expect = rows * subs
    const bare: number[] = []
    const bySystem = new Map<SystemName, number[]>()
    const running = new Map<SystemName, Awaited<ReturnType<typeof setUp>>>()
    try {
      // Tuned as the references are: as many requests in flight per target as the bare-undici
      // pool keeps outstanding, 128 (the default, 16, suits third-party receivers; the
      // bench's receiver is built for load).
      const tuned = { delivery: { perSubscriptionConcurrency: 128 } }
      for (const system of systems(ctx))
        running.set(system, await setUp(ctx, system, targets, tuned))
      // One short unrecorded run each first: JIT, connections and caches warm up, as in a
      // sender that has been running for a while.
      const warm = Math.ceil(rows / 4)
      await bareUndici(ctx, targets, warm)
      for (const r of running.values())
        await endToEnd(ctx, r.sink, { kind: 'burst', rows: warm, batch: 50 }, warm * subs, 120_000)
      // Interleaved, so that every sender sees the same machine state over the runs.
      for (let run = 0; run < runs; run++) {
        bare.push((await bareUndici(ctx, targets, rows)).rate)
        for (const [system, r] of running) {
          const res = await endToEnd(
            ctx,
            r.sink,
            { kind: 'burst', rows, batch: 50 },
            expect,
            120_000,
          )
          const rate = res.done
            ? (expect * 1000) / (res.done.last - res.writer.started)
            : Number.NaN
          bySystem.set(system, [...(bySystem.get(system) ?? []), rate])
          ctx.log(`  throughput ${system} subs=${subs} run ${run + 1}: ${Math.round(rate)}/s`)
        }
      }
    } finally {
      for (const r of running.values()) await r.teardown()
    }
    out.push({ system: 'undici', subscriptions: subs, rate: spread(bare), raw: bare })
    for (const [system, raw] of bySystem)
      out.push({ system, subscriptions: subs, rate: spread(raw), raw })
  }
  return out
}
