import { describe, expect, it } from 'vitest'
import { resolveSettings, storeOptions } from '../../src/server/settings.ts'
import { redactUrl } from '../../src/storage/open-store.ts'

const defaults = { configFile: 'hookline.config.ts', host: '0.0.0.0' }

describe('settings', () => {
  it('takes the database, its schema and pool size from flags, then HOOKLINE_*, then the config', () => {
    const config = {
      database: { url: 'postgres://config@db/crm', schema: 'from_config', poolSize: 4 },
    }
    const env = {
      HOOKLINE_DATABASE_URL: 'postgres://env@db/crm',
      HOOKLINE_DATABASE_SCHEMA: 'from_env',
      HOOKLINE_POOL_SIZE: '6',
    }
    const flags = { database: 'postgres://flag@db/crm', schema: 'from_flag', poolSize: '8' }

    const fromConfig = resolveSettings({}, {}, config, defaults)
    expect(fromConfig).toMatchObject({
      database: 'postgres://config@db/crm',
      databaseSchema: 'from_config',
      poolSize: 4,
    })
    expect(storeOptions(fromConfig)).toEqual({
      baseDir: process.cwd(),
      postgres: { schema: 'from_config', poolSize: 4 },
    })
    expect(resolveSettings({}, env, config, defaults)).toMatchObject({
      database: 'postgres://env@db/crm',
      databaseSchema: 'from_env',
      poolSize: 6,
    })
    expect(resolveSettings(flags, env, config, defaults)).toMatchObject({
      database: 'postgres://flag@db/crm',
      databaseSchema: 'from_flag',
      poolSize: 8,
    })
  })

  it('accepts the database as a plain URL, and leaves the store defaults when nothing is said', () => {
    const s = resolveSettings({}, {}, { database: 'postgres://app@db/crm' }, defaults)
    expect(s).toMatchObject({ database: 'postgres://app@db/crm', databaseSchema: undefined })
    expect(storeOptions(s)).toEqual({ baseDir: process.cwd(), postgres: {} })
    expect(resolveSettings({}, {}, {}, defaults).database).toBe('sqlite:./data/hookline.db')
  })

  it('names the source of a bad pool size', () => {
    expect(() => resolveSettings({ poolSize: '0' }, {}, {}, defaults)).toThrow(
      "--pool-size is '0': give the number of connections",
    )
    expect(() =>
      resolveSettings({}, {}, { database: { url: 'postgres://db/x', poolSize: 2.5 } }, defaults),
    ).toThrow("database.poolSize in the config is '2.5'")
  })

  it('hides passwords in URLs, even with unescaped @ and /', () => {
    expect(redactUrl('postgres://app:s3cret@db:5432/crm')).toBe('postgres://app:***@db:5432/crm')
    expect(redactUrl('postgres://app:p@ss/w@db/crm?sslmode=require')).toBe(
      'postgres://app:***@db/crm?sslmode=require',
    )
    expect(redactUrl('postgres://app@db:5432/crm')).toBe('postgres://app@db:5432/crm')
    expect(redactUrl('postgres://db:5432/crm')).toBe('postgres://db:5432/crm')
    expect(redactUrl('sqlite:./data/hookline.db')).toBe('sqlite:./data/hookline.db')
  })

  it('starts a relative SQLite path from the config file when the URL came from it, else from the working directory', () => {
    const config = { database: 'sqlite:./data/app.db' }
    const nested = { ...defaults, configFile: '/srv/project/hookline.config.ts' }
    expect(resolveSettings({}, {}, config, nested).databaseBaseDir).toBe('/srv/project')
    expect(resolveSettings({ database: 'sqlite:x.db' }, {}, config, nested).databaseBaseDir).toBe(
      process.cwd(),
    )
    expect(
      resolveSettings({}, { HOOKLINE_DATABASE_URL: 'sqlite:x.db' }, config, nested).databaseBaseDir,
    ).toBe(process.cwd())
  })

  it('accepts HOOKLINE_API_KEY and every key of the config', () => {
    const config = { server: { apiKeys: ['k1', 'k2'] } }
    expect(resolveSettings({}, { HOOKLINE_API_KEY: 'env' }, config, defaults).apiKeys).toEqual([
      'env',
      'k1',
      'k2',
    ])
    expect(resolveSettings({}, {}, {}, defaults).apiKeys).toEqual([])
  })
})
