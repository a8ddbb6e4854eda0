import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import {
  type CaptureConfig,
  type Change,
  createHookline,
  defineTracking,
  type Hookline,
} from '../../src/index.ts'
import { DEMO_SQLITE_SCHEMA, REPO_ROOT } from '../helpers/demo.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'

// Capture from any writer: other processes, each with its own connection and its own
// SQLite library, write the tracked tables while Hookline runs in this process.

const run = promisify(execFile)
const dir = tempDir()

/** A separate Node process writing with better-sqlite3 (`db` is its connection). */
const nodeWriter = async (file: string, js: string) =>
  (
    await run(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1]);\n${js}\ndb.close()`,
        file,
      ],
      { cwd: REPO_ROOT },
    )
  ).stdout.trim()

/** The `sqlite3` command-line client (Debian's 3.40): an older SQLite runs the triggers. */
const cliWriter = async (file: string, sql: string) =>
  (await run('sqlite3', ['-bail', '-cmd', '.timeout 5000', file, sql])).stdout.trim()

/** Python's `sqlite3` module (`db` is its connection; `sys.argv[2:]` are `args`). */
const pythonWriter = async (file: string, code: string, ...args: string[]) =>
  (
    await run('python3', [
      '-c',
      `import sqlite3, sys\ndb = sqlite3.connect(sys.argv[1], timeout=5)\n${code}\ndb.close()`,
      file,
      ...args,
    ])
  ).stdout.trim()

const open: Hookline[] = []
afterEach(async () => {
  for (const h of open.splice(0)) await h.stop()
})

interface Recorder {
  readonly hookline: Hookline
  /** Every change the tracking handlers were called with and Hookline committed, in order. */
  readonly changes: Change[]
  readonly errors: Error[]
  /** Resolves once `predicate` holds, checked after each processed batch. */
  until(predicate: () => boolean, what: string, timeoutMs?: number): Promise<void>
  stop(): Promise<void>
}

/**
 * Starts a Hookline on `file` (the demo CRM's tables, created when new) whose tracking
 * handlers record every change of `tables`.
 */
async function record(
  file: string,
  options: { tables?: string[]; initSql?: string; capture?: CaptureConfig } = {},
): Promise<Recorder> {
  const changes: Change[] = []
  // Handlers run before their batch commits; a change counts once its batch is committed.
  const inBatch: Change[] = []
  const errors: Error[] = []
  const tables = options.tables ?? ['deal']
  const hookline = await createHookline({
    database: `sqlite:${file}`,
    events: {},
    tracking: Object.fromEntries(
      tables.map((t) => [t, defineTracking({ onChange: (change) => void inBatch.push(change) })]),
    ),
    initSql: options.initSql ?? DEMO_SQLITE_SCHEMA,
    ...(options.capture ? { capture: options.capture } : {}),
  })
  open.push(hookline)
  hookline.on('change:processed', () => changes.push(...inBatch.splice(0)))
  hookline.on('capture:error', (e) => errors.push(e))
  hookline.on('change:failed', ({ error }) => errors.push(error))
  await hookline.start()
  return {
    hookline,
    changes,
    errors,
    until(predicate, what, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (errors.length > 0) done(errors[0])
          else if (predicate()) done()
        }
        const done = (error?: Error) => {
          clearTimeout(timer)
          hookline.off('change:processed', check)
          if (error) reject(error)
          else resolve()
        }
        const timer = setTimeout(
          () =>
            done(
              new Error(
                `timed out after ${timeoutMs} ms waiting for ${what}; captured: ${JSON.stringify(changes)}`,
              ),
            ),
          timeoutMs,
        )
        hookline.on('change:processed', check)
        check()
      })
    },
    async stop() {
      await hookline.stop()
      open.splice(open.indexOf(hookline), 1)
    },
  }
}

const summary = (changes: Change[]) => changes.map((c) => [c.action, c.rowId])

describe('capture on SQLite from other processes', () => {
  it('captures an insert, update and delete made by a separate Node process (better-sqlite3)', async () => {
    const file = tempDbPath(dir)
    const r = await record(file)
    const id = Number(
      await nodeWriter(
        file,
        `const { lastInsertRowid: id } = db.prepare("INSERT INTO deal (name, amount, is_project) VALUES ('Node deal', 100, 1)").run()
         db.prepare("UPDATE deal SET stage = 'won' WHERE id = ?").run(id)
         db.prepare('DELETE FROM deal WHERE id = ?').run(id)
         console.log(String(id))`,
      ),
    )
    await r.until(() => r.changes.length >= 3, 'three changes')
    expect(summary(r.changes)).toEqual([
      ['insert', id],
      ['update', id],
      ['delete', id],
    ])
    const [insert, update, del] = r.changes
    expect(insert).toMatchObject({ table: 'deal', before: null })
    expect(insert!.after).toMatchObject({
      id,
      name: 'Node deal',
      amount: 100,
      is_project: 1,
      stage: 'lead',
    })
    expect(update!.before).toMatchObject({ stage: 'lead' })
    expect(update!.after).toMatchObject({ stage: 'won' })
    expect(del).toMatchObject({ after: null, before: { id, name: 'Node deal', stage: 'won' } })
  })

  it('captures writes of the sqlite3 command-line client, an older SQLite (3.40)', async () => {
    const file = tempDbPath(dir)
    const r = await record(file, { tables: ['deal', 'contact'] })
    const version = await cliWriter(file, 'SELECT sqlite_version()')
    expect(version).toMatch(/^3\.\d+\.\d+$/)
    await cliWriter(
      file,
      `INSERT INTO deal (id, name, amount) VALUES (100, 'CLI deal', 5);
       UPDATE deal SET amount = 6 WHERE id = 100;
       INSERT INTO contact (first_name, last_name) VALUES ('Alan', 'Turing');
       DELETE FROM deal WHERE id = 100;`,
    )
    await r.until(() => r.changes.length >= 4, 'four changes')
    expect(r.changes.map((c) => [c.table, c.action, c.rowId])).toEqual([
      ['deal', 'insert', 100],
      ['deal', 'update', 100],
      ['contact', 'insert', 3],
      ['deal', 'delete', 100],
    ])
    expect(r.changes[1]).toMatchObject({ before: { amount: 5 }, after: { amount: 6 } })
    expect(r.changes[2]!.after).toMatchObject({
      first_name: 'Alan',
      last_name: 'Turing',
      email: null,
    })
  })

  it("captures writes of Python's sqlite3 module", async () => {
    const file = tempDbPath(dir)
    const r = await record(file)
    const id = Number(
      await pythonWriter(
        file,
        `cur = db.execute("INSERT INTO deal (name, amount, currency) VALUES ('Python deal', 7.5, 'USD')")
db.commit()
db.execute("UPDATE deal SET name = 'Renamed' WHERE id = ?", (cur.lastrowid,))
db.commit()
db.execute("DELETE FROM deal WHERE id = ?", (cur.lastrowid,))
db.commit()
print(cur.lastrowid)`,
      ),
    )
    await r.until(() => r.changes.length >= 3, 'three changes')
    expect(summary(r.changes)).toEqual([
      ['insert', id],
      ['update', id],
      ['delete', id],
    ])
    expect(r.changes[0]!.after).toMatchObject({ name: 'Python deal', amount: 7.5, currency: 'USD' })
    expect(r.changes[1]).toMatchObject({
      before: { name: 'Python deal' },
      after: { name: 'Renamed' },
    })
  })

  it("is woken by another process's commit through the WAL watch, not the poll", async () => {
    const file = tempDbPath(dir)
    // The poll would only look again after a minute: a capture within seconds came from the watch.
    const r = await record(file, { capture: { pollIntervalMs: 60_000 } })
    await cliWriter(file, "INSERT INTO deal (name) VALUES ('Watched')")
    await r.until(() => r.changes.length >= 1, 'the insert', 5_000)
    await pythonWriter(
      file,
      `db.execute("UPDATE deal SET stage = 'won' WHERE name = 'Watched'")\ndb.commit()`,
    )
    await r.until(() => r.changes.length >= 2, 'the update', 5_000)
    await nodeWriter(file, `db.exec("DELETE FROM deal WHERE name = 'Watched'")`)
    await r.until(() => r.changes.length >= 3, 'the delete', 5_000)
    expect(r.changes.map((c) => c.action)).toEqual(['insert', 'update', 'delete'])
  })

  it('catches up on start with the changes made while Hookline was stopped', async () => {
    const file = tempDbPath(dir)
    const first = await record(file)
    await first.stop()

    await nodeWriter(
      file,
      `db.exec("INSERT INTO deal (id, name) VALUES (200, 'While stopped (node)')")`,
    )
    await cliWriter(file, "INSERT INTO deal (id, name) VALUES (201, 'While stopped (cli)')")
    await pythonWriter(
      file,
      `db.execute("INSERT INTO deal (id, name) VALUES (202, 'While stopped (python)')")
db.execute("DELETE FROM deal WHERE id = 200")
db.commit()`,
    )

    const r = await record(file)
    await r.until(() => r.changes.length >= 4, 'four changes')
    expect(summary(r.changes)).toEqual([
      ['insert', 200],
      ['insert', 201],
      ['insert', 202],
      ['delete', 200],
    ])
    expect(await r.hookline.store.countPendingChanges()).toBe(0)
  })

  it('captures nothing from a rolled-back transaction or a failed statement', async () => {
    const file = tempDbPath(dir)
    const r = await record(file)
    await cliWriter(
      file,
      "BEGIN; INSERT INTO deal (name) VALUES ('rolled back (cli)'); DELETE FROM deal; ROLLBACK;",
    )
    await pythonWriter(
      file,
      `db.execute("INSERT INTO deal (name) VALUES ('rolled back (python)')")
db.execute("UPDATE deal SET amount = 1")
db.rollback()`,
    )
    await nodeWriter(
      file,
      `try {
         db.transaction(() => {
           db.exec("INSERT INTO deal (name) VALUES ('rolled back (node)')")
           throw new Error('abort')
         })()
       } catch {}
       // A statement that fails a constraint undoes its own trigger's write too.
       try { db.exec("INSERT INTO deal (name, is_project) VALUES ('bad', 2)") } catch {}
       db.exec("INSERT INTO deal (name) VALUES ('marker')")`,
    )
    // The marker was written last, by the last writer: once it is seen, anything before it has been too.
    await r.until(() => r.changes.some((c) => c.after?.name === 'marker'), 'the marker')
    expect(r.changes.map((c) => [c.action, c.after?.name])).toEqual([['insert', 'marker']])
  })

  it('puts a column added while Hookline was stopped into `after` once Hookline restarts', async () => {
    const file = tempDbPath(dir)
    const first = await record(file)
    await first.stop()

    await cliWriter(
      file,
      `ALTER TABLE deal ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal';
       UPDATE deal SET priority = 'high' WHERE id = 1;`,
    )
    const r = await record(file)
    // Written while stopped, by the triggers of the old columns: the new column is not in it.
    await r.until(() => r.changes.length >= 1, 'the update made while stopped')
    expect(r.changes[0]!.after).toMatchObject({ id: 1, stage: 'proposal' })
    expect(r.changes[0]!.after).not.toHaveProperty('priority')

    await pythonWriter(
      file,
      `db.execute("UPDATE deal SET priority = 'urgent' WHERE id = 1")\ndb.commit()`,
    )
    await r.until(() => r.changes.length >= 2, 'the update after the restart')
    expect(r.changes[1]).toMatchObject({
      action: 'update',
      before: { priority: 'high' },
      after: { priority: 'urgent', stage: 'proposal' },
    })
  })

  it('records INSERT OR REPLACE of an existing row as an insert only (a delete too with recursive_triggers)', async () => {
    const file = tempDbPath(dir)
    const r = await record(file)
    await cliWriter(
      file,
      "INSERT OR REPLACE INTO deal (id, name, amount) VALUES (1, 'Replaced', 1)",
    )
    await r.until(() => r.changes.length >= 1, 'the replace')
    // SQLite deletes the old row without firing DELETE triggers: the change is an insert of
    // a row id that existed, with no `before`.
    await cliWriter(file, "INSERT OR REPLACE INTO deal (name) VALUES ('a new row')")
    await r.until(() => r.changes.length >= 2, 'the replace of a new row')
    expect(r.changes.map((c) => [c.action, c.rowId, c.after?.name ?? null])).toEqual([
      ['insert', 1, 'Replaced'],
      ['insert', 3, 'a new row'],
    ])
    expect(r.changes[0]!.before).toBeNull()

    // With recursive_triggers on, the writer's REPLACE fires the DELETE trigger first.
    await cliWriter(
      file,
      "PRAGMA recursive_triggers = ON; REPLACE INTO deal (id, name) VALUES (1, 'Replaced again')",
    )
    await r.until(() => r.changes.length >= 4, 'the replace with recursive_triggers')
    expect(
      r.changes.slice(2).map((c) => [c.action, c.rowId, c.before?.name, c.after?.name]),
    ).toEqual([
      ['delete', 1, 'Replaced', undefined],
      ['insert', 1, undefined, 'Replaced again'],
    ])
  })

  it('records an UPSERT that hits an existing row as an update, and DO NOTHING as nothing', async () => {
    const file = tempDbPath(dir)
    const r = await record(file)
    await pythonWriter(
      file,
      `upsert = "INSERT INTO deal (id, name, amount) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE SET amount = excluded.amount"
db.execute(upsert, (1, 'ignored', 99))
db.execute(upsert, (50, 'Fresh', 10))
db.execute("INSERT INTO deal (id, name) VALUES (1, 'skipped') ON CONFLICT DO NOTHING")
db.execute("INSERT OR IGNORE INTO deal (id, name) VALUES (1, 'skipped')")
db.execute("INSERT INTO deal (name) VALUES ('marker')")
db.commit()`,
    )
    await r.until(() => r.changes.some((c) => c.after?.name === 'marker'), 'the marker')
    expect(r.changes.map((c) => [c.action, c.rowId])).toEqual([
      ['update', 1],
      ['insert', 50],
      ['insert', 51],
    ])
    expect(r.changes[0]).toMatchObject({
      before: { name: 'Acme website redesign', amount: 12000 },
      after: { name: 'Acme website redesign', amount: 99 },
    })
  })

  it('captures every column of a table with more than 63 columns and a BLOB', async () => {
    const file = tempDbPath(dir)
    // 133 columns: the trigger builds the row's JSON from three chunks of at most 60.
    const cols = Array.from({ length: 130 }, (_, i) => `c${i + 1}`)
    const r = await record(file, {
      tables: ['wide'],
      initSql: `CREATE TABLE wide (id INTEGER PRIMARY KEY, ${cols.join(', ')}, "odd ""name"" {x}" TEXT, payload BLOB);`,
    })
    // NULLs in every chunk, and texts with braces where chunks are joined (c59 ends the first).
    const values: (number | string | null)[] = cols.map((_, i) => (i % 3 === 2 ? null : i + 1))
    values[58] = 'ends in }'
    values[59] = '{starts with {'
    values[118] = '}}'
    await pythonWriter(
      file,
      `import json
values = json.loads(sys.argv[2])
db.execute("INSERT INTO wide VALUES (7, " + ", ".join("?" * len(values)) + ", 'q\\"}', ?)", values + [bytes([0xde, 0xad, 0xbe, 0xef])])
db.execute("UPDATE wide SET c130 = 1, payload = NULL WHERE id = 7")
db.commit()`,
      JSON.stringify(values),
    )
    await r.until(() => r.changes.length >= 2, 'the insert and the update')
    const expected = {
      id: 7,
      ...Object.fromEntries(cols.map((c, i) => [c, values[i]])),
      'odd "name" {x}': 'q"}',
      payload: 'DEADBEEF',
    }
    expect(r.changes[0]!.after).toStrictEqual(expected)
    expect(r.changes[1]!.before).toStrictEqual(expected)
    expect(r.changes[1]!.after).toStrictEqual({ ...expected, c130: 1, payload: null })
  })

  it('waits out a writer that holds the write lock for a second while Hookline runs', async () => {
    const file = tempDbPath(dir)
    const r = await record(file)
    const writer = nodeWriter(
      file,
      `db.exec("INSERT INTO deal (name) VALUES ('before the lock')")
       // Hookline wakes on that commit and finds the file locked when it commits its batch.
       db.exec('BEGIN IMMEDIATE')
       db.exec("INSERT INTO deal (name) VALUES ('inside the lock')")
       Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000)
       db.exec('COMMIT')`,
    )
    await r.until(() => r.changes.length >= 2, 'both inserts')
    await writer
    expect(r.changes.map((c) => c.after?.name)).toEqual(['before the lock', 'inside the lock'])
    expect(r.errors).toEqual([])
    expect(await r.hookline.store.countPendingChanges()).toBe(0)
  })

  it('starts while another process holds the write lock, and then catches up (busy_timeout)', async () => {
    const file = tempDbPath(dir)
    await (await record(file)).stop()
    const writer = spawn(
      process.execPath,
      [
        '-e',
        `const db = new (require('better-sqlite3'))(process.argv[1])
         db.exec('BEGIN IMMEDIATE')
         db.exec("INSERT INTO deal (name) VALUES ('under the lock')")
         console.log('locked', Date.now())
         Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000)
         db.exec('COMMIT')`,
        file,
      ],
      { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    )
    const exited = new Promise<number | null>((resolve) => writer.once('exit', resolve))
    const lockedAt = await new Promise<number>((resolve, reject) => {
      writer.stdout.on('data', (d: Buffer) => {
        const m = /locked (\d+)/.exec(d.toString())
        if (m) resolve(Number(m[1]))
      })
      writer.once('exit', () => reject(new Error('the writer exited before taking the lock')))
    })
    // Migrations and the trigger refresh need the write lock: start-up waits for the commit.
    const r = await record(file)
    expect(Date.now() - lockedAt).toBeGreaterThanOrEqual(900)
    expect(await exited).toBe(0)
    await r.until(() => r.changes.length >= 1, 'the insert made under the lock')
    expect(r.changes[0]!.after).toMatchObject({ name: 'under the lock' })
    expect(r.errors).toEqual([])
  })
})

describe('the capture triggers', () => {
  it('are refreshed by `hookline migrate` after a column was added', async () => {
    const file = tempDbPath(dir)
    const migrate = () =>
      run(
        process.execPath,
        [
          'bin/hookline.mjs',
          'migrate',
          '--config',
          'examples/crm/hookline.config.ts',
          '--database',
          `sqlite:${file}`,
        ],
        { cwd: REPO_ROOT },
      )
    await migrate()
    await cliWriter(file, 'ALTER TABLE deal ADD COLUMN priority TEXT')
    await migrate()
    const db = new Database(file, { readonly: true })
    try {
      const sql = db
        .prepare("SELECT sql FROM sqlite_schema WHERE name = 'hookline_capture_deal_update'")
        .pluck()
        .get()
      expect(sql).toContain('\'priority\', CASE WHEN typeof(NEW."priority")')
    } finally {
      db.close()
    }
  })

  it('live in the database file beside a change log keyed by rowid', async () => {
    const file = tempDbPath(dir)
    await (await record(file)).stop()
    const db = new Database(file, { readonly: true })
    try {
      expect(
        db
          .prepare("SELECT name FROM sqlite_schema WHERE type = 'trigger' ORDER BY name")
          .pluck()
          .all(),
      ).toEqual([
        'hookline_capture_deal_delete',
        'hookline_capture_deal_insert',
        'hookline_capture_deal_update',
      ])
      // No AUTOINCREMENT: it would write sqlite_sequence on every tracked insert. The
      // consumer keeps no position in the log, so a consumed change's id may come again.
      const log = db
        .prepare("SELECT sql FROM sqlite_schema WHERE name = 'hookline_changes'")
        .pluck()
        .get()
      expect(log).toMatch(/id INTEGER PRIMARY KEY,/)
      expect(log).not.toMatch(/AUTOINCREMENT/)
    } finally {
      db.close()
    }
  })
})
