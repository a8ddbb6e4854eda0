import type { Spread } from './stats.ts'

export type Sender =
  | 'hookline-sqlite'
  | 'hookline-pg'
  | 'hookline-pg-notify'
  | 'pgboss'
  | 'bullmq'
  | 'bullmq-pg'
  | 'undici'

export interface ThroughputResult {
  readonly system: Sender
  readonly subscriptions: number
  /** Deliveries per second, end to end. */
  readonly rate: Spread
  readonly raw: readonly number[]
  readonly note?: string
}

export interface LatencyResult {
  readonly system: Sender
  readonly rate: number
  readonly p50: Spread
  readonly p95: Spread
  readonly p99: Spread
  readonly max: Spread
  readonly note?: string
}

export interface FanoutResult {
  readonly system: Sender
  readonly subscriptions: number
  /** Commit (or send start) to the last receipt, ms. */
  readonly ms: Spread
  readonly note?: string
}

export interface CaptureResult {
  readonly db: 'sqlite' | 'pg'
  readonly variant: 'untracked' | 'tracked, Hookline running' | 'tracked, triggers only'
  /** Rows per second, one row per transaction. */
  readonly rate: Spread
}

export interface IsolationResult {
  readonly db: 'sqlite' | 'pg'
  readonly config: 'all healthy' | 'with 1 hanging + 1 slow'
  readonly p50: Spread
  readonly p99: Spread
  readonly max: Spread
  readonly note?: string
}

export interface BacklogResult {
  readonly db: 'sqlite' | 'pg'
  readonly deliveries: number
  readonly buildSeconds: Spread
  readonly drainRate: Spread
  readonly peakRssMb: Spread
  readonly buildPeakRssMb: Spread
  readonly note?: string
}

export interface BenchResults {
  meta: Record<string, unknown>
  throughput: ThroughputResult[]
  latency: LatencyResult[]
  fanout: FanoutResult[]
  capture: CaptureResult[]
  isolation: IsolationResult[]
  backlog: BacklogResult[]
}
