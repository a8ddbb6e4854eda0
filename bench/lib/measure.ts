import type { WriterMode, WriterSink } from '../procs/writer.ts'
import type { BenchContext } from './context.ts'
import { type ProcMessage, startProc } from './proc.ts'
import type { LatencySummary } from './stats.ts'

export interface ReceiverReport {
  readonly ok: number
  readonly other: number
  readonly first: number
  readonly last: number
  readonly latency: LatencySummary | null
}

let generation = 0

/** Clears the receiver's counters; it reports 'reached' once `expect` deliveries arrived. */
export async function resetReceiver(ctx: BenchContext, expect: number): Promise<number> {
  const gen = ++generation
  ctx.receiver.send({ type: 'reset', expect, gen })
  await ctx.receiver.next('reset', 10_000)
  return gen
}

/** Waits for the receiver's 'reached' of this generation; null on timeout. */
export async function reached(
  ctx: BenchContext,
  gen: number,
  timeoutMs: number,
): Promise<{ first: number; last: number } | null> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const left = deadline - Date.now()
    if (left <= 0) return null
    try {
      const m = await ctx.receiver.next<ProcMessage & { gen: number; first: number; last: number }>(
        'reached',
        left,
      )
      if (m.gen === gen) return m
    } catch {
      return null
    }
  }
}

export async function receiverReport(ctx: BenchContext): Promise<ReceiverReport> {
  ctx.receiver.send({ type: 'report' })
  return (await ctx.receiver.next('report', 10_000)) as unknown as ReceiverReport
}

export interface WriterDone {
  readonly rows: number
  readonly started: number
  readonly finished: number
}

/** Runs the writer process to the end of its mode. */
export async function runWriter(sink: WriterSink, mode: WriterMode): Promise<WriterDone> {
  const writer = startProc('writer', { sink, mode })
  try {
    return (await writer.next('done', 600_000)) as unknown as WriterDone
  } finally {
    await writer.stop(2000)
  }
}

/**
 * One end-to-end measurement: the writer inserts, the sender delivers, the receiver counts
 * `expect` deliveries (or the wait times out).
 */
export async function endToEnd(
  ctx: BenchContext,
  sink: WriterSink,
  mode: WriterMode,
  expect: number,
  timeoutMs: number,
): Promise<{
  writer: WriterDone
  done: { first: number; last: number } | null
  report: ReceiverReport
}> {
  const gen = await resetReceiver(ctx, expect)
  const writer = await runWriter(sink, mode)
  const done = await reached(ctx, gen, timeoutMs)
  const report = await receiverReport(ctx)
  if (!done) ctx.log(`  ! timed out: ${report.ok} of ${expect} deliveries received`)
  return { writer, done, report }
}
