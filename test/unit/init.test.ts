import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { loadProject } from '../../src/config/load-project.ts'
import { createHookline } from '../../src/hookline.ts'
import { REPO_ROOT } from '../helpers/demo.ts'
import { tempDir } from '../helpers/temp.ts'

const hookline = (dir: string, ...args: string[]) =>
  execFileSync(process.execPath, [join(REPO_ROOT, 'bin/hookline.mjs'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    stdio: 'pipe',
  })

describe('hookline init', () => {
  const root = tempDir()

  it('scaffolds a project that starts and fires its event on an insert', async () => {
    const dir = join(root, 'app')
    mkdirSync(dir)
    const db = join(dir, 'app.db')
    new Database(db).exec('CREATE TABLE invoice (id INTEGER PRIMARY KEY, total REAL)')
    const out = hookline(dir, 'init', '--table', 'invoice', '--database', `sqlite:${db}`)
    expect(out).toMatch(/created hookline\.config\.ts/)
    const project = await loadProject(join(dir, 'hookline.config.ts'))
    expect(project.events.map((e) => e.name)).toEqual(['NewInvoice'])
    const h = await createHookline({
      database: project.config.database as string,
      events: project.events,
      tracking: project.tracking,
    })
    try {
      new Database(db).exec('INSERT INTO invoice (total) VALUES (42)')
      await h.drain()
      expect(await h.store.countMessages('NewInvoice')).toBe(1)
    } finally {
      await h.stop()
    }
  })

  it('never overwrites a file', () => {
    const dir = join(root, 'existing')
    mkdirSync(dir)
    writeFileSync(join(dir, 'hookline.config.ts'), '// mine')
    expect(() => hookline(dir, 'init')).toThrow(
      /already exists: hookline init never overwrites files/,
    )
  })
})
