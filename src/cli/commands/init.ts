import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { HooklineError } from '../../errors.ts'

const pascal = (s: string) =>
  s.replace(/(^|[_\-\s]+)([a-z0-9])/gi, (_, __, c: string) => c.toUpperCase())

/** The files of a new project, by path. With a table: an event on its inserts and its tracking handler. */
export function scaffold(table: string | undefined, database: string): Map<string, string> {
  const files = new Map<string, string>()
  files.set(
    'hookline.config.ts',
    `import { defineConfig } from 'hookline'

export default defineConfig({
  database: '${database}',
  // Events fired without code, e.g.: { table: 'contact', on: 'insert', event: 'NewContact' }
  bindings: [],
})
`,
  )
  if (!table) return files
  const event = `New${pascal(table)}`
  files.set(
    `events/${event}.ts`,
    `import { defineEvent } from 'hookline'

export default defineEvent({
  description: 'A ${table} row was created',
  table: '${table}',
  // Builds the data sent to subscribers, once per event; perform-list uses it too.
  async build({ rowId, db }) {
    return db.one('SELECT * FROM ${table} WHERE id = ?', [rowId])
  },
  sample: { id: 1 },
})
`,
  )
  files.set(
    `tracking/${table}.ts`,
    `import { defineTracking } from 'hookline'

// Called once per changed row of '${table}', whatever wrote it.
export default defineTracking({
  onChange(change, { trigger }) {
    if (change.action === 'insert') trigger('${event}', change.rowId)
  },
})
`,
  )
  return files
}

/** `hookline init`: writes a new project's files; never overwrites one. */
export function init(options: { dir: string; table?: string; database: string }): void {
  if (options.table !== undefined && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(options.table))
    throw new HooklineError(
      'invalid_request',
      `--table '${options.table}' is not a plain table name`,
    )
  const files = scaffold(options.table, options.database)
  const clash = [...files.keys()].find((f) => existsSync(join(options.dir, f)))
  if (clash)
    throw new HooklineError(
      'invalid_request',
      `${join(options.dir, clash)} already exists: hookline init never overwrites files`,
    )
  for (const [file, text] of files) {
    const path = join(options.dir, file)
    mkdirSync(join(path, '..'), { recursive: true })
    writeFileSync(path, text)
    console.log(`created ${relative(process.cwd(), path) || path}`)
  }
  console.log(
    '\nNext: npx hookline dev --config hookline.config.ts   (or hookline start in production)',
  )
}
