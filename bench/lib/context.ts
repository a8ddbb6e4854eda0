import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Proc, startProc } from './proc.ts'

/** How big and how often: the quick mode finishes in a few minutes. */
export interface BenchParams {
  readonly quick: boolean
  /** Repetitions of each measurement. */
  readonly runs: number
  /** Deliveries per throughput run. */
  readonly throughputDeliveries: number
  readonly latencyRates: readonly number[]
  readonly latencyDurationMs: number
  readonly fanoutSubscriptions: number
  readonly fanoutPorts: number
  readonly captureRowsSqlite: number
  readonly captureRowsPg: number
  readonly isolationRate: number
  readonly isolationDurationMs: number
  readonly backlogDeliveries: number
  readonly backlogRuns: number
}

export function benchParams(quick: boolean): BenchParams {
  return quick
    ? {
        quick,
        runs: 3,
        throughputDeliveries: 6000,
        latencyRates: [200, 1000],
        latencyDurationMs: 4000,
        fanoutSubscriptions: 1000,
        fanoutPorts: 4,
        captureRowsSqlite: 20_000,
        captureRowsPg: 4000,
        isolationRate: 50,
        isolationDurationMs: 5000,
        backlogDeliveries: 100_000,
        backlogRuns: 1,
      }
    : {
        quick,
        runs: 5,
        throughputDeliveries: 30_000,
        latencyRates: [200, 1000],
        latencyDurationMs: 15_000,
        fanoutSubscriptions: 1000,
        fanoutPorts: 4,
        captureRowsSqlite: 100_000,
        captureRowsPg: 20_000,
        isolationRate: 50,
        isolationDurationMs: 20_000,
        backlogDeliveries: 1_000_000,
        backlogRuns: 2,
      }
}

export const PG_URL =
  process.env.HOOKLINE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test'

/** Shared by every scenario: parameters, a scratch folder, the receiver, PostgreSQL's state. */
export interface BenchContext {
  readonly params: BenchParams
  readonly tmp: string
  /** Why the PostgreSQL store cannot be measured, or null when it can. */
  readonly pgUnavailable: string | null
  readonly receiver: Proc
  readonly receiverPorts: readonly number[]
  log(message: string): void
  /** `--systems`: measure only these senders. */
  readonly onlySystems: readonly string[] | null
  /** `--subs`: throughput only at these subscription counts. */
  readonly onlySubs: readonly number[] | null
  /** `--hookline-delivery`: Hookline delivery options for experiments (default: none). */
  readonly hooklineDelivery: Record<string, unknown>
}

export function scratchDir(): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'hookline-bench-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

let fileCounter = 0
/** A fresh SQLite file name in the scratch folder. */
export function dbFile(ctx: BenchContext, name: string): string {
  return join(ctx.tmp, `${name}-${++fileCounter}.db`)
}

export async function startReceiver(ports: number): Promise<{ proc: Proc; ports: number[] }> {
  const proc = startProc('receiver', { ports })
  const ready = await proc.next<{ type: 'ready'; ports: number[] }>('ready', 30_000)
  return { proc, ports: ready.ports }
}
