import { fileURLToPath } from 'node:url'
import { buildSync } from 'esbuild'

const scripts = new Map<string, string>()

/**
 * A worker thread's TypeScript module and what it imports from Hookline, compiled by
 * esbuild into one CommonJS script (once per process), for `new Worker(script, { eval:
 * true })`. Packages stay `require` calls, resolved from the module's own directory.
 *
 * Such a thread needs no TypeScript loader: on Node 20 each thread that registers tsx
 * starts a loader thread of its own, some 28 MB of resident memory for a thread that
 * only sends. The module must not use `import.meta` (a script has none): esbuild's
 * warnings are errors here, and the thread's tests build it.
 */
export function threadScript(entry: URL): string {
  let script = scripts.get(entry.href)
  if (script) return script
  const file = fileURLToPath(entry)
  const built = buildSync({
    entryPoints: [file],
    bundle: true,
    packages: 'external',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    logLevel: 'silent',
    // An eval'd script's own `require` resolves from the working directory.
    banner: {
      js: `var require = require('node:module').createRequire(${JSON.stringify(file)});`,
    },
  })
  if (built.warnings.length > 0)
    throw new Error(
      `cannot build the thread ${file}: ${built.warnings.map((w) => w.text).join('; ')}`,
    )
  script = built.outputFiles[0]!.text
  scripts.set(entry.href, script)
  return script
}
