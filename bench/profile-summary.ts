// Prints the hottest functions (self time) of V8 CPU profiles written by `npm run bench --
// --profile`: `node --import tsx bench/profile-summary.ts bench/results/profiles/*.cpuprofile`.
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

interface Node {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  hitCount?: number
  children?: number[]
}

for (const file of process.argv.slice(2)) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as {
    nodes: Node[]
    samples: number[]
    timeDeltas: number[]
  }
  const byId = new Map(profile.nodes.map((n) => [n.id, n]))
  const self = new Map<number, number>()
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  })
  // Shares of the busy time: the process idles between runs.
  const idle = profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id)
  const total = [...self].reduce((a, [id, us]) => (idle.includes(id) ? a : a + us), 0)
  const byFunction = new Map<string, number>()
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame
    const where = f.url
      ? `${relative(process.cwd(), f.url.replace('file://', ''))}:${f.lineNumber + 1}`
      : ''
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim()
    byFunction.set(key, (byFunction.get(key) ?? 0) + us)
  }
  // Inclusive time of named functions (tsx's transpiled line numbers are approximate).
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const inclusive = new Map<string, number>()
  for (const [id, us] of self) {
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const name = byId.get(at)!.callFrame.functionName
      if (name && !seen.has(name)) {
        seen.add(name)
        inclusive.set(name, (inclusive.get(name) ?? 0) + us)
      }
    }
  }
  const top = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, 40)
  console.log(`\n${file}: ${(total / 1e6).toFixed(1)} s busy\nself time:`)
  for (const [key, us] of top(byFunction))
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${key}`)
  console.log('inclusive time:')
  for (const [key, us] of top(inclusive))
    console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${key}`)
}
