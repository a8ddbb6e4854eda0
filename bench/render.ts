// Re-renders docs/benchmarks.{md,png,json} from a results file without measuring again
// (e.g. after editing bench/analysis.md): `node --import tsx bench/render.ts [file]`.
// Default: the published results, docs/benchmarks.json (a partial run, `--only` or
// `--no-docs`, writes bench/results/ but never replaces them).
import { readFileSync } from 'node:fs'
import type { BenchResults } from './lib/results.ts'
import { writeReport } from './report/write-report.ts'

const file = process.argv[2] ?? new URL('../docs/benchmarks.json', import.meta.url)
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults
console.log((await writeReport(results)).join('\n'))
