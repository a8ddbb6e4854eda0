import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadProject } from '../../src/config/load-project.ts'
import { createHookline } from '../../src/hookline.ts'
import { DEMO_SQLITE_SCHEMA } from '../helpers/demo.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

const dir = tempDir()
const fixture = (name: string) =>
  fileURLToPath(new URL(`../fixtures/projects/${name}/hookline.config.ts`, import.meta.url))

/** Loads a fixture project and starts it on a database with the demo CRM's tables. */
async function boot(name: string) {
  const project = await loadProject(fixture(name))
  const hookline = await createHookline({
    database: `sqlite:${tempDbPath(dir)}`,
    events: project.events,
    tracking: project.tracking,
    bindings: project.config.bindings ?? [],
    initSql: DEMO_SQLITE_SCHEMA,
  })
  await hookline.stop()
}

describe('start-up refuses a broken project, naming the file and the fix', () => {
  it('an event whose name differs from its file', async () => {
    await expect(boot('name-mismatch')).rejects.toThrow(
      /events\/NewOportunity\.ts declares name 'NewOpportunity'.*rename the file to NewOpportunity\.ts or the event to 'NewOportunity'/,
    )
  })
  it('an event declared twice', async () => {
    await expect(boot('duplicate')).rejects.toThrow(
      /event 'NewDeal' is declared twice .*NewDeal\.mjs.*NewDeal\.ts|NewDeal\.ts.*NewDeal\.mjs/,
    )
  })
  it('a tracking file for a table that does not exist', async () => {
    await expect(boot('missing-table')).rejects.toThrow(
      /tracking\/deals\.ts tracks table 'deals', which does not exist in the database: rename the file/,
    )
  })
  it('a trigger() of an unknown event', async () => {
    await expect(boot('unknown-trigger')).rejects.toThrow(
      /tracking\/deal\.ts triggers unknown event 'NewDael': add events\/NewDael\.ts or fix the name \(known: .*NewDeal/,
    )
  })
  it('a binding of an unknown event', async () => {
    await expect(boot('bad-binding')).rejects.toThrow(
      /bindings\[0\] fires unknown event 'DealCreated'/,
    )
  })
  it('all of these are ConfigErrors with the invalid_config code', async () => {
    await expect(boot('unknown-trigger')).rejects.toMatchObject({
      name: 'ConfigError',
      code: 'invalid_config',
    })
  })
})
