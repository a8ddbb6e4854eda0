import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { BenchResults } from '../lib/results.ts'
import { renderChart } from './chart.ts'
import { renderMarkdown } from './markdown.ts'

const docs = new URL('../../docs/', import.meta.url)

/** Writes docs/benchmarks.md and docs/benchmarks.png; returns the paths. */
export async function writeReport(results: BenchResults): Promise<string[]> {
  const analysisFile = new URL('../analysis.md', import.meta.url)
  const analysis = existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8') : ''
  const md = fileURLToPath(new URL('benchmarks.md', docs))
  const png = fileURLToPath(new URL('benchmarks.png', docs))
  writeFileSync(md, renderMarkdown(results, analysis))
  writeFileSync(png, await renderChart(results))
  return [md, png]
}
