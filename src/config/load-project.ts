import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, extname, join, relative, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError } from '../errors.ts'
import type { EventSource } from '../events/event-catalog.ts'
import type { TrackingSource } from '../tracking/tracking-plan.ts'
import { checkConfig, HooklineConfigSchema } from './config-schema.ts'
import type { HooklineConfig } from './define-config.ts'

const MODULE_EXTENSIONS = new Set(['.ts', '.mts', '.js', '.mjs'])

export interface LoadedProject {
  readonly configFile: string
  readonly dir: string
  readonly config: HooklineConfig
  readonly events: EventSource[]
  readonly tracking: TrackingSource[]
  /** The init SQL text for the given store, if the config names one. */
  initSql(dialect: 'sqlite' | 'postgres'): string | undefined
}

async function importDefault(file: string, what: string, fix: string): Promise<any> {
  let mod: { default?: unknown }
  try {
    mod = await import(pathToFileURL(file).href)
  } catch (error) {
    throw new ConfigError(`${file} could not be loaded: ${(error as Error).message}`, {
      cause: error,
      file,
    })
  }
  if (mod.default === undefined || mod.default === null || typeof mod.default !== 'object')
    throw new ConfigError(`${file} has no default export of ${what}: ${fix}`, { file })
  return mod.default
}

function moduleFiles(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter(
      (f) =>
        MODULE_EXTENSIONS.has(extname(f)) && !f.endsWith('.d.ts') && !/\.test\.|\.spec\./.test(f),
    )
    .sort()
    .map((f) => join(dir, f))
}

/** Event names in `trigger('Name'…)` calls, so an unknown one is caught at start-up, not at the first change. */
export function staticTriggers(source: string): string[] {
  return [...source.matchAll(/\btrigger\(\s*(['"`])([A-Za-z0-9_]+)\1/g)].map((m) => m[2]!)
}

/**
 * Loads a project: its config file, `events/*.ts` (file name = event name) and
 * `tracking/*.ts` (file name = table name).
 */
export async function loadProject(configFile: string): Promise<LoadedProject> {
  const file = resolve(configFile)
  if (!existsSync(file))
    throw new ConfigError(
      `config file ${configFile} does not exist: create it (hookline init) or pass --config <file>`,
      {
        file: configFile,
      },
    )
  const dir = dirname(file)
  const config = (await importDefault(
    file,
    'a config',
    'export default defineConfig({ … })',
  )) as HooklineConfig
  const show = (f: string) => relative(process.cwd(), f) || f
  checkConfig(HooklineConfigSchema, config, show(file))

  const events: EventSource[] = []
  for (const f of moduleFiles(resolve(dir, config.events ?? 'events'))) {
    const definition = await importDefault(
      f,
      'an event',
      'export default defineEvent({ description, build })',
    )
    events.push({ name: basename(f, extname(f)), file: show(f), definition })
  }
  const tracking: TrackingSource[] = []
  for (const f of moduleFiles(resolve(dir, config.tracking ?? 'tracking'))) {
    const definition = await importDefault(
      f,
      'a tracking handler',
      'export default defineTracking({ onChange })',
    )
    tracking.push({
      table: basename(f, extname(f)),
      file: show(f),
      definition,
      staticTriggers: staticTriggers(readFileSync(f, 'utf8')),
    })
  }
  const duplicate = events.find((e, i) => events.findIndex((o) => o.name === e.name) !== i)
  if (duplicate) {
    const files = events.filter((e) => e.name === duplicate.name).map((e) => e.file)
    throw new ConfigError(
      `event '${duplicate.name}' is declared twice (${files.join(' and ')}): keep one of them`,
    )
  }

  return {
    configFile: file,
    dir,
    config,
    events,
    tracking,
    initSql(dialect) {
      const spec = typeof config.initSql === 'string' ? config.initSql : config.initSql?.[dialect]
      return spec ? readFileSync(resolve(dir, spec), 'utf8') : undefined
    },
  }
}
