import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { loadProject } from '../config/load-project.ts'
import { createHookline, type Hookline } from '../hookline.ts'
import { type CliFlags, resolveSettings, type Settings, storeOptions } from '../server/settings.ts'
import { openStore } from '../storage/open-store.ts'

/** The demo CRM project that ships with Hookline (`hookline dev`). */
export const DEMO_CONFIG = fileURLToPath(
  new URL('../../examples/crm/hookline.config.ts', import.meta.url),
)

export async function loadSettings(
  flags: CliFlags,
  defaults: { configFile: string; host: string; allowPrivateTargets?: boolean },
) {
  const configFile = flags.config ?? defaults.configFile
  const project = await loadProject(configFile)
  const settings: Settings = resolveSettings(flags, process.env, project.config, defaults)
  return { project, settings }
}

/** A Hookline on the project's database for one CLI command: checked, not started. */
export async function withHookline<T>(
  flags: CliFlags,
  fn: (hookline: Hookline) => Promise<T>,
): Promise<T> {
  const { project, settings } = await loadSettings(flags, {
    configFile: 'hookline.config.ts',
    host: '127.0.0.1',
  })
  const store = await openStore(settings.database, storeOptions(settings))
  const initSql = project.initSql(store.capabilities.dialect)
  const hookline = await createHookline({
    database: store,
    events: project.events,
    tracking: project.tracking,
    bindings: project.config.bindings ?? [],
    ...(initSql ? { initSql } : {}),
    delivery: { ...project.config.delivery, allowPrivateTargets: settings.allowPrivateTargets },
    logger: pino({ level: 'warn' }, pino.destination(2)),
  }).catch(async (error) => {
    await store.close()
    throw error
  })
  try {
    return await fn(hookline)
  } finally {
    await hookline.stop()
  }
}
