import type { BenchResults, Sender } from '../lib/results.ts'
import type { Spread } from '../lib/stats.ts'
import { SYSTEM_LABELS } from '../lib/systems.ts'

const n0 = (v: number) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : 'n/a')
const n1 = (v: number) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(1) : n0(v)) : 'n/a')

/** "median (min–max)" */
export function fmt(s: Spread | undefined, f: (v: number) => string = n0): string {
  if (!s || s.runs === 0) return 'n/a'
  return s.runs === 1 ? f(s.median) : `${f(s.median)} (${f(s.min)}–${f(s.max)})`
}

const label = (s: Sender) => SYSTEM_LABELS[s]
const mark = (ok: boolean | null) =>
  ok === null ? '— not measured' : ok ? '**met**' : '**missed**'

/**
 * The do-it-yourself baselines a Hookline store is held against: those whose application
 * writes the same database, since the clock starts before the application's commit (a
 * PostgreSQL commit is in Hookline on PostgreSQL's time; it must be in BullMQ's too).
 */
const DIY = {
  SQLite: ['pgboss', 'bullmq'],
  PostgreSQL: ['pgboss', 'bullmq-pg'],
} as const satisfies Record<string, readonly Sender[]>
const DIY_NAMES: Partial<Record<Sender, string>> = {
  pgboss: 'pg-boss',
  bullmq: 'BullMQ',
  'bullmq-pg': 'BullMQ (app on PostgreSQL)',
}

interface TargetRow {
  target: string
  measured: string
  ok: boolean | null
}

function targets(r: BenchResults): TargetRow[] {
  const rows: TargetRow[] = []
  const tp = (system: Sender, subs: number) =>
    r.throughput.find((t) => t.system === system && t.subscriptions === subs)?.rate.median ??
    Number.NaN
  const lat = (system: Sender, rate: number) =>
    r.latency.find((l) => l.system === system && l.rate === rate)
  const subsCounts = [...new Set(r.throughput.map((t) => t.subscriptions))]
  const has = (v: number) => Number.isFinite(v)
  for (const subs of subsCounts) {
    const s = tp('hookline-sqlite', subs)
    const bare = tp('undici', subs)
    rows.push({
      target: `SQLite ≥ 5,000 deliveries/s (${subs} subscription${subs > 1 ? 's' : ''})`,
      measured: `${n0(s)}/s`,
      ok: has(s) ? s >= 5000 : null,
    })
    rows.push({
      target: `SQLite ≥ 50 % of bare undici (${subs} sub.)`,
      measured: `${n0((100 * s) / bare)} % (${n0(s)} / ${n0(bare)})`,
      ok: has(s) && has(bare) ? s >= bare / 2 : null,
    })
    const p = tp('hookline-pg', subs)
    rows.push({
      target: `PostgreSQL ≥ 3,000 deliveries/s (${subs} sub.)`,
      measured: has(p) ? `${n0(p)}/s` : 'not run',
      ok: has(p) ? p >= 3000 : null,
    })
    for (const [name, v] of [
      ['SQLite', s],
      ['PostgreSQL', p],
    ] as const) {
      const diy = DIY[name].map((b) => `${DIY_NAMES[b]} ${n0(tp(b, subs))}`).join(', ')
      const best = Math.max(...DIY[name].map((b) => tp(b, subs) || 0))
      rows.push({
        target: `${name} throughput ahead of both DIY baselines (${subs} sub.)`,
        measured: `${n0(v)} vs ${diy}`,
        ok: best > 0 && has(v) ? v > best : null,
      })
    }
  }
  const l200 = lat('hookline-sqlite', 200)
  rows.push({
    target: 'SQLite commit-to-receipt at 200/s: p50 ≤ 5 ms',
    measured: l200 ? `${n1(l200.p50.median)} ms` : 'not run',
    ok: l200 ? l200.p50.median <= 5 : null,
  })
  rows.push({
    target: 'SQLite commit-to-receipt at 200/s: p99 ≤ 25 ms',
    measured: l200 ? `${n1(l200.p99.median)} ms` : 'not run',
    ok: l200 ? l200.p99.median <= 25 : null,
  })
  const p200 = lat('hookline-pg', 200)
  rows.push({
    target: 'PostgreSQL commit-to-receipt at 200/s: p99 ≤ 50 ms',
    measured: p200 ? `${n1(p200.p99.median)} ms` : 'not run',
    ok: p200 ? p200.p99.median <= 50 : null,
  })
  const n200 = lat('hookline-pg-notify', 200)
  if (n200)
    rows.push({
      target: 'PostgreSQL with capture.notify (opt-in): p99 ≤ 50 ms at 200/s',
      measured: `${n1(n200.p99.median)} ms`,
      ok: n200.p99.median <= 50,
    })
  for (const rate of [...new Set(r.latency.map((l) => l.rate))]) {
    const p99 = (s: Sender) => lat(s, rate)?.p99.median
    for (const [name, system] of [
      ['SQLite', 'hookline-sqlite'],
      ['PostgreSQL', 'hookline-pg'],
    ] as const) {
      const v = p99(system)
      if (v === undefined) continue
      const diy = DIY[name].map(p99).filter((d): d is number => d !== undefined)
      rows.push({
        target: `${name} p99 at ${rate}/s ahead of both DIY baselines`,
        measured: `${n1(v)} ms vs ${DIY[name].map((b) => `${DIY_NAMES[b]} ${n1(p99(b) ?? Number.NaN)}`).join(', ')} ms`,
        ok: diy.length ? v < Math.min(...diy) : null,
      })
    }
  }
  for (const db of ['sqlite', 'pg'] as const) {
    const base = r.capture.find((c) => c.db === db && c.variant === 'untracked')
    for (const variant of ['tracked, Hookline running', 'tracked, triggers only'] as const) {
      const tracked = r.capture.find((c) => c.db === db && c.variant === variant)
      if (!base || !tracked) continue
      const ratio = tracked.rate.median / base.rate.median
      rows.push({
        target: `Capture (${db === 'pg' ? 'PostgreSQL' : 'SQLite'}, ${variant}): ≥ 50 % of untracked insert rate`,
        measured: `${n0(ratio * 100)} % (${n0(tracked.rate.median)} / ${n0(base.rate.median)} rows/s)`,
        ok: ratio >= 0.5,
      })
    }
  }
  for (const b of r.backlog)
    rows.push({
      target: `Backlog of ${n0(b.deliveries)} (${b.db === 'pg' ? 'PostgreSQL' : 'SQLite'}): peak RSS < 300 MB`,
      measured: `${n0(b.peakRssMb.max)} MB`,
      ok: b.peakRssMb.max < 300,
    })
  return rows
}

export function renderMarkdown(r: BenchResults, analysis: string): string {
  const m = r.meta as any
  const v = m.versions ?? {}
  const out: string[] = []
  out.push('# Hookline benchmarks', '')
  out.push(
    `Generated by \`npm run bench${m.mode === 'quick' ? ' -- --quick' : ''}\` on ${String(m.date).slice(0, 10)} (${m.mode} mode, ${m.durationSeconds} s). ` +
      'Every figure is the **median of the runs, with min–max in brackets**; every scenario ran in the same ' +
      'run as its references, so compare figures as ratios, not with other machines.',
    '',
  )
  out.push('![Throughput and latency](benchmarks.png)', '')
  out.push('## Machine and versions', '')
  out.push(
    `- ${m.cpuModel}, nproc ${m.nproc}, ${m.memoryGb} GiB, ${m.os}; every process (writer, Hookline or baseline, receiver, PostgreSQL, Redis) shares these cores.`,
    `- Node ${m.node}; Hookline ${v.hookline}; undici ${v.undici}; better-sqlite3 ${v['better-sqlite3']} (SQLite ${v.sqlite}); pg ${v.pg}; PostgreSQL ${v.postgres ?? 'n/a'}; pg-boss ${v['pg-boss']}; BullMQ ${v.bullmq}; Redis ${v.redis ?? 'n/a'}.`,
    `- Hookline at commit ${m.commit ?? '?'}${m.uncommittedSrc ? ` with ${m.uncommittedSrc} uncommitted files in src/ (work in progress of other engineers at the time)` : ''}; load average (1, 5, 15 min) before the run ${m.loadAverage?.before?.join(', ') ?? '?'}, after ${m.loadAverage?.after?.join(', ') ?? '?'} (other work shared the machine).`,
    `- Runs per measurement: ${m.params?.runs}${m.mode === 'quick' ? ' (quick mode: fewer runs, smaller counts)' : ''}.`,
    m.pgUnavailable
      ? `- **PostgreSQL store not measured**: ${m.pgUnavailable}`
      : '- PostgreSQL store measured (`postgres://…/test`, fresh schemas per run).',
    '',
  )

  out.push('## Targets', '', '| target | measured (median) | result |', '|---|---|---|')
  for (const t of targets(r)) out.push(`| ${t.target} | ${t.measured} | ${mark(t.ok)} |`)
  out.push('')

  if (r.throughput.length) {
    const subs = [...new Set(r.throughput.map((t) => t.subscriptions))]
    out.push(
      '## 1. Throughput (deliveries/s, end to end)',
      '',
      `A separate writer process inserts rows (${m.params?.throughputDeliveries} deliveries per run; 50 rows per transaction) into a table; ` +
        'the clock runs from its first insert to the receiver’s last receipt. The receiver is its own process.',
      '',
      `| sender | ${subs.map((s) => `${s} subscription${s > 1 ? 's' : ''}`).join(' | ')} |`,
      `|---|${subs.map(() => '---').join('|')}|`,
    )
    for (const system of [...new Set(r.throughput.map((t) => t.system))])
      out.push(
        `| ${label(system)} | ${subs.map((s) => fmt(r.throughput.find((t) => t.system === system && t.subscriptions === s)?.rate)).join(' | ')} |`,
      )
    out.push('')
  }
  if (r.latency.length) {
    out.push(
      '## 2. Latency, commit to receipt (ms)',
      '',
      `One row per transaction at a fixed rate for ${(m.params?.latencyDurationMs ?? 0) / 1000} s, each row written at its time, even while earlier ones still commit (on PostgreSQL up to 4 at once, the writer’s connections); one subscription; the row carries its commit time and the delivered payload carries it to the receiver.`,
      '',
      '| sender | rate | p50 | p95 | p99 | max | note |',
      '|---|---|---|---|---|---|---|',
    )
    for (const l of r.latency)
      out.push(
        `| ${label(l.system)} | ${l.rate}/s | ${fmt(l.p50, n1)} | ${fmt(l.p95, n1)} | ${fmt(l.p99, n1)} | ${fmt(l.max, n1)} | ${l.note ?? ''} |`,
      )
    out.push('')
  }
  if (r.fanout.length) {
    out.push(
      '## 3. Fan-out: one event to 1,000 subscriptions (ms until all received)',
      '',
      `Subscriptions spread over ${m.params?.fanoutPorts} receiver ports; from the writer’s commit (bare undici: from its first request) to the last receipt. Senders keep their connections between runs; bare undici is a new process each run and opens its connections inside the measured time.`,
      '',
      '| sender | time |',
      '|---|---|',
    )
    for (const f of r.fanout) out.push(`| ${label(f.system)} | ${fmt(f.ms)} ms |`)
    out.push('')
  }
  if (r.capture.length) {
    out.push(
      '## 4. Capture overhead (application inserts/s, one row per transaction)',
      '',
      'The same table shape with and without Hookline’s capture triggers; “Hookline running” consumes the change log as it grows (builds each payload, stores the message; no subscriptions, so no HTTP). PostgreSQL writers use 4 connections.',
      '',
      '| database | table | inserts/s |',
      '|---|---|---|',
    )
    for (const c of r.capture)
      out.push(`| ${c.db === 'pg' ? 'PostgreSQL' : 'SQLite'} | ${c.variant} | ${fmt(c.rate)} |`)
    out.push('')
  }
  if (r.isolation.length) {
    out.push(
      '## 5. Isolation: healthy targets’ latency with a hanging and a slow target (ms)',
      '',
      `${m.params?.isolationRate} rows/s for ${(m.params?.isolationDurationMs ?? 0) / 1000} s, each row to 22 subscriptions: 22 healthy, or 20 healthy + 1 that never answers + 1 that answers in 2 s. Hookline’s defaults (15 s timeout, 16 attempts in flight per subscription, 256 in all). Latency of the healthy targets only.`,
      '',
      '| database | targets | p50 | p99 | max | note |',
      '|---|---|---|---|---|---|',
    )
    for (const i of r.isolation)
      out.push(
        `| ${i.db === 'pg' ? 'PostgreSQL' : 'SQLite'} | ${i.config} | ${fmt(i.p50, n1)} | ${fmt(i.p99, n1)} | ${fmt(i.max, n1)} | ${i.note ?? ''} |`,
      )
    out.push('')
  }
  if (r.backlog.length) {
    out.push(
      '## 6. Backlog: pending deliveries, then the receiver is up',
      '',
      '100 subscriptions (one receiver serving many of them was down); a Hookline with delivery held (concurrency 0, as when no target answers) captures the rows into pending deliveries; a fresh Hookline process then drains them. Drain rate from first to last receipt; peak RSS is the drainer’s getrusage maxrss.',
      '',
      '| database | pending deliveries | build (capture) | build peak RSS | drain rate | drain peak RSS | note |',
      '|---|---|---|---|---|---|---|',
    )
    for (const b of r.backlog)
      out.push(
        `| ${b.db === 'pg' ? 'PostgreSQL' : 'SQLite'} | ${n0(b.deliveries)} | ${fmt(b.buildSeconds, n1)} s | ${fmt(b.buildPeakRssMb)} MB | ${fmt(b.drainRate)}/s | ${fmt(b.peakRssMb)} MB | ${b.note ?? ''} |`,
      )
    out.push('')
  }
  out.push(
    '## How the references were built and tuned',
    '',
    '- **Receiver**: one `node:http` process listening on a few loopback ports; it counts requests and, for bodies carrying `"ts"`, records receipt time minus commit time. It does not verify signatures (no sender pays for that).',
    '- **Bare undici Pool (the physical limit)**: the same Standard Webhooks bodies, built before the clock starts, each request signed (HMAC-SHA256) when sent; `undici.Pool` with 64 connections per receiver port, 128 requests outstanding, no storage.',
    '- **pg-boss 10 + undici**: the writer inserts its rows and one job per subscriber (message body, URL, secret) in the same PostgreSQL transaction through pg-boss’s `db` option (an outbox, like Hookline). The worker: 4 `work()` loops with `batchSize: 100`, each batch sent concurrently through one undici Agent (64 connections per origin); a loop that received a full batch fetches again at once (`notifyWorker`) instead of sleeping; `pollingIntervalSeconds: 0.5` (pg-boss’s minimum) otherwise; `retryLimit: 8`, `retryBackoff`; failed jobs failed one by one. No attempt log, no per-endpoint isolation.',
    '- **BullMQ + undici** (local Redis): the writer commits its rows to SQLite, then `addBulk`s one job per subscriber (a dual write: a crash in between loses the event). The worker: `concurrency: 128` (the bare pool’s outstanding requests), undici Agent with 64 connections per origin, `removeOnComplete`, `attempts: 8` with exponential backoff. No attempt log, no per-endpoint isolation.',
    '- **BullMQ + undici, app on PostgreSQL**: the same worker; the writer commits its rows to PostgreSQL (4 connections, as Hookline on PostgreSQL’s writer), then adds the jobs. Hookline on PostgreSQL is held against this one and pg-boss: every clock starts before the application’s commit, so the baseline must pay the same database’s commit (on SQLite a commit costs tens of microseconds, on PostgreSQL a round trip and a WAL flush).',
    '- **Hookline**: embedded (`createHookline`), production defaults except that loopback targets are allowed and, in the throughput scenario, 128 attempts may be in flight per target (`perSubscriptionConcurrency`; the default, 16, suits third-party receivers), as many as the bare pool keeps outstanding. The event reads its rows from the table: `buildMany` with one `WHERE id IN (…)` query per batch of changes (`build`, one query per row, serves single rows). Every delivery is signed, its attempt logged, and messages, deliveries and the change’s consumed mark are committed together.',
    '- **Warm-up**: before the measured runs of the throughput and latency scenarios, every sender does one short unrecorded run (JIT, connection pools and caches warm up, as in a sender that has been running for a while).',
    '',
  )
  if (analysis.trim()) out.push(analysis.trim(), '')
  return `${out.join('\n')}\n`
}
