// `npm run bench` (full) or `npm run bench -- --quick`: every scenario with its references
// in one run, on loopback, written to docs/benchmarks.md and docs/benchmarks.png.
// `--only throughput,latency` runs some scenarios; `--profile` writes CPU profiles of the
// Hookline processes to bench/results/profiles; `--no-docs` leaves docs/ alone.
import { mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type BenchContext, benchParams, scratchDir, startReceiver } from './lib/context.ts'
import { machineInfo, probePostgres } from './lib/machine.ts'
import { hooklineNodeFlags, killAll } from './lib/proc.ts'
import type { BenchResults } from './lib/results.ts'
import { writeReport } from './report/write-report.ts'
import { backlog } from './scenarios/backlog.ts'
import { capture } from './scenarios/capture.ts'
import { fanout } from './scenarios/fanout.ts'
import { isolation } from './scenarios/isolation.ts'
import { latency } from './scenarios/latency.ts'
import { throughput } from './scenarios/throughput.ts'

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    'no-docs': { type: 'boolean', default: false },
    systems: { type: 'string' },
    subs: { type: 'string' },
    'hookline-delivery': { type: 'string' },
  },
})

const SCENARIOS = { throughput, latency, fanout, capture, isolation, backlog } as const
type ScenarioName = keyof typeof SCENARIOS
const chosen = (values.only?.split(',') ?? Object.keys(SCENARIOS)) as ScenarioName[]
for (const name of chosen)
  if (!(name in SCENARIOS))
    throw new Error(`unknown scenario '${name}': use ${Object.keys(SCENARIOS).join(', ')}`)

const resultsDir = fileURLToPath(new URL('./results/', import.meta.url))
mkdirSync(resultsDir, { recursive: true })
if (values.profile) {
  const dir = `${resultsDir}profiles`
  mkdirSync(dir, { recursive: true })
  hooklineNodeFlags.push('--cpu-prof', `--cpu-prof-dir=${dir}`)
}

const log = (message: string) => console.log(`${new Date().toISOString().slice(11, 19)} ${message}`)
const scratch = scratchDir()
const onSignal = () => {
  killAll()
  scratch.remove()
  process.exit(130)
}
process.on('SIGINT', onSignal)
process.on('SIGTERM', onSignal)

const started = Date.now()
const loadBefore = os.loadavg()
const params = benchParams(values.quick)
const pgUnavailable = await probePostgres()
if (pgUnavailable) log(`PostgreSQL scenarios skipped: ${pgUnavailable}`)
const receiver = await startReceiver(params.fanoutPorts)
const ctx: BenchContext = {
  params,
  tmp: scratch.dir,
  pgUnavailable,
  receiver: receiver.proc,
  receiverPorts: receiver.ports,
  log,
  onlySystems: values.systems?.split(',') ?? null,
  onlySubs: values.subs?.split(',').map(Number) ?? null,
  hooklineDelivery: values['hookline-delivery'] ? JSON.parse(values['hookline-delivery']) : {},
}
const results: BenchResults = {
  meta: {},
  throughput: [],
  latency: [],
  fanout: [],
  capture: [],
  isolation: [],
  backlog: [],
}
try {
  for (const name of chosen) {
    log(`scenario ${name}`)
    ;(results as any)[name] = await SCENARIOS[name](ctx)
  }
} finally {
  await receiver.proc.stop(2000)
  killAll()
  scratch.remove()
}
results.meta = {
  ...(await machineInfo()),
  mode: values.quick ? 'quick' : 'full',
  params,
  scenarios: chosen,
  pgUnavailable,
  loadAverage: {
    before: loadBefore.map((l) => l.toFixed(2)),
    after: os.loadavg().map((l) => l.toFixed(2)),
  },
  durationSeconds: Math.round((Date.now() - started) / 1000),
  date: new Date().toISOString(),
}
const json = `${resultsDir}latest-${values.quick ? 'quick' : 'full'}.json`
writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`)
log(`results: ${json}`)
if (!values['no-docs']) {
  const written = await writeReport(results)
  log(`report: ${written.join(', ')}`)
}
process.exit(0)
