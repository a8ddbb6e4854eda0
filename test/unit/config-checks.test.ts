import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { checkConfig, HooklineConfigSchema } from '../../src/config/config-schema.ts'
import { loadProject } from '../../src/config/load-project.ts'
import { defineEvent } from '../../src/events/define-event.ts'
import { createHookline } from '../../src/hookline.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

const dir = tempDir()
const check = (config: unknown) => () =>
  checkConfig(HooklineConfigSchema, config, 'hookline.config.ts')

describe('settings are checked, and a wrong one is named with what it must be', () => {
  it('accepts a full, valid config', () => {
    expect(
      check({
        database: { url: 'postgres://db/app', schema: 'hooks', poolSize: 5 },
        events: './events',
        bindings: [{ table: 'deal', on: 'insert', event: 'NewDeal' }],
        initSql: { sqlite: 'a.sql' },
        server: { port: 8080, apiKeys: ['k'] },
        delivery: { concurrency: 0, retrySchedule: [0, 1000], health: { failingAfter: 3 } },
        capture: { batchSize: 100, pollIntervalMs: 50, notify: true },
      }),
    ).not.toThrow()
  })

  it('refuses a misspelt setting, listing the known ones', () => {
    expect(check({ delivery: { concurency: 64 } })).toThrow(
      /hookline\.config\.ts: delivery\.concurency is not a setting \(known here: timeoutMs, .*concurrency/,
    )
    expect(check({ deliveries: {} })).toThrow(/deliveries is not a setting \(known here: database,/)
  })

  it('refuses a wrong type or range, saying what it must be and what it got', () => {
    expect(check({ delivery: { concurrency: 'many' } })).toThrow(
      /delivery\.concurrency must be a whole number, not "many"/,
    )
    expect(check({ server: { port: 70_000 } })).toThrow(
      /server\.port must be a whole number ≤ 65535, not 70000/,
    )
    expect(check({ capture: { notify: 'yes' } })).toThrow(
      /capture\.notify must be true or false, not "yes"/,
    )
    expect(check({ delivery: { health: { failingAfter: 0 } } })).toThrow(
      /delivery\.health\.failingAfter/,
    )
    expect(check({ database: 42 })).toThrow(
      /database must be a string or an object with url, schema, poolSize, not 42/,
    )
  })

  it('in a project config file, naming the file', async () => {
    const file = join(dir, 'hookline.config.mjs')
    writeFileSync(file, 'export default { delivery: { timeoutMs: -1 } }\n')
    await expect(loadProject(file)).rejects.toThrow(
      /hookline\.config\.mjs: delivery\.timeoutMs must be a whole number ≥ 1, not -1/,
    )
  })

  it('in embedded options, before the database is opened', async () => {
    const database = `sqlite:${tempDbPath(dir)}`
    const events = { Ping: defineEvent({ description: 'p', build: () => ({}) }) }
    await expect(createHookline({ database, events, capture: { batchSize: 0 } })).rejects.toThrow(
      /createHookline: capture\.batchSize must be a whole number ≥ 1, not 0/,
    )
  })
})
