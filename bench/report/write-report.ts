import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { BenchResults } from '../lib/results.ts'
import { renderChart } from './chart.ts'
import { renderMarkdown } from './markdown.ts'

const docs = new URL('../../docs/', import.meta.url)

/** Writes docs/benchmarks.md, .png and .json (the raw results); returns the paths. */
export async function writeReport(results: BenchResults): Promise<string[]> {
  const analysisFile = new URL('../analysis.md', import.meta.url)
  const analysis = existsSync(analysisFile) ? readFileSync(analysisFile, 'utf8') : ''
  const md = fileURLToPath(new URL('benchmarks.md', docs))
  const png = fileURLToPath(new URL('benchmarks.png', docs))
  writeFileSync(md, renderMarkdown(results, analysis))
  writeFileSync(png, await renderChart(results))
  const json = fileURLToPath(new URL('benchmarks.json', docs))
  writeFileSync(json, `${JSON.stringify(results, null, 2)}\n`)
  // In the project's own JSON style, so that `npm run check` stays green after a run.
  const biome = fileURLToPath(new URL('../../node_modules/.bin/biome', import.meta.url))
  if (existsSync(biome)) execFileSync(biome, ['format', '--write', json], { stdio: 'ignore' })
  return [md, png, json]
}
