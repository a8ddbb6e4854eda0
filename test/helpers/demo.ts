import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { loadProject } from '../../src/config/load-project.ts'
import { createHookline, type Hookline, type HooklineOptions } from '../../src/hookline.ts'

export const DEMO_CONFIG = fileURLToPath(
  new URL('../../examples/crm/hookline.config.ts', import.meta.url),
)
export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const DEMO_SQLITE_SCHEMA = readFileSync(
  new URL('../../examples/crm/schema.sqlite.sql', import.meta.url),
  'utf8',
)

/** A Hookline on the demo CRM project, on the given database (not started). */
export async function demoHookline(
  database: string,
  extra: Partial<HooklineOptions> = {},
): Promise<Hookline> {
  const project = await loadProject(DEMO_CONFIG)
  return createHookline({
    database,
    events: project.events,
    tracking: project.tracking,
    bindings: project.config.bindings ?? [],
    initSql: project.initSql(database.startsWith('sqlite:') ? 'sqlite' : 'postgres'),
    ...extra,
    // Test receivers listen on loopback, which production refuses.
    delivery: { allowPrivateTargets: true, ...extra.delivery },
  })
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 10, 29, 10, 0, 0)) {
  let now = start
  return {
    now: () => now,
    advance(ms: number) {
      now += ms
    },
    set(ms: number) {
      now = ms
    },
  }
}
