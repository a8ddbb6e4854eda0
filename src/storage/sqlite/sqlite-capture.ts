import type BetterSqlite3 from 'better-sqlite3'
import { ConfigError } from '../../errors.ts'

const TRIGGER_PREFIX = 'hookline_capture_'
/** SQLite allows 127 function arguments by default: build big rows from chunks. */
const COLUMNS_PER_JSON_OBJECT = 60

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`
}

function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`
}

interface ColumnInfo {
  name: string
  pk: number
}

/** The expression that identifies a row: its single-column primary key, else its rowid. */
function rowIdColumn(db: BetterSqlite3.Database, table: string, columns: ColumnInfo[]): string {
  const pks = columns.filter((c) => c.pk > 0)
  if (pks.length === 1) return quoteIdent(pks[0]!.name)
  const withoutRowid = db
    .prepare("SELECT sql FROM sqlite_schema WHERE type = 'table' AND name = ?")
    .pluck()
    .get(table) as string
  if (/without\s+rowid/i.test(withoutRowid)) {
    throw new ConfigError(
      `table '${table}' is a WITHOUT ROWID table with a composite primary key: Hookline needs one column that identifies a row; give it a single-column primary key or track another table`,
    )
  }
  return 'rowid'
}

/**
 * `json_object(...)` of every column of NEW or OLD; blobs become hex so JSON can hold them.
 * Wider rows are joined from chunks as text (`{"a":1}` + `{"b":null}` → `{"a":1,"b":null}`):
 * `json_patch` would drop the chunks' NULL columns, and a JSON path cannot name every
 * column. Every value is a scalar, so each chunk ends in exactly one `}` and starts with one `{`.
 */
function rowJson(ref: 'NEW' | 'OLD', columns: ColumnInfo[]): string {
  const chunks: string[] = []
  for (let i = 0; i < columns.length; i += COLUMNS_PER_JSON_OBJECT) {
    const pairs = columns.slice(i, i + COLUMNS_PER_JSON_OBJECT).map((c) => {
      const col = `${ref}.${quoteIdent(c.name)}`
      return `${quoteLiteral(c.name)}, CASE WHEN typeof(${col}) = 'blob' THEN hex(${col}) ELSE ${col} END`
    })
    chunks.push(`json_object(${pairs.join(', ')})`)
  }
  if (chunks.length === 1) return chunks[0]!
  const inner = chunks.map((chunk, i) =>
    i === 0
      ? `rtrim(${chunk}, '}')`
      : i === chunks.length - 1
        ? `ltrim(${chunk}, '{')`
        : `trim(${chunk}, '{}')`,
  )
  return inner.join(` || ',' || `)
}

/**
 * The trigger SQL for one table and action. Kept to what SQLite 3.38+ understands
 * (json_object, julianday; no `unixepoch('subsec')`, no `->>`), because any client that
 * writes the table runs it: an older `sqlite3` CLI or Python's `sqlite3` module too.
 */
function triggerSql(
  table: string,
  action: 'insert' | 'update' | 'delete',
  idExpr: string,
  columns: ColumnInfo[],
): string {
  const name = quoteIdent(`${TRIGGER_PREFIX}${table}_${action}`)
  const ref = action === 'delete' ? 'OLD' : 'NEW'
  const rowId = idExpr === 'rowid' ? `${ref}.rowid` : `${ref}.${idExpr}`
  const oldRow = action === 'insert' ? 'NULL' : rowJson('OLD', columns)
  const newRow = action === 'delete' ? 'NULL' : rowJson('NEW', columns)
  return `CREATE TRIGGER ${name} AFTER ${action.toUpperCase()} ON ${quoteIdent(table)} BEGIN
  INSERT INTO hookline_changes (table_name, action, row_id, old_row, new_row, created_at)
  VALUES (${quoteLiteral(table)}, '${action}', ${rowId}, ${oldRow}, ${newRow}, CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER));
END`
}

function desiredTriggers(db: BetterSqlite3.Database, table: string): Map<string, string> {
  const columns = db.prepare(`SELECT name, pk FROM pragma_table_info(?)`).all(table) as ColumnInfo[]
  const idExpr = rowIdColumn(db, table, columns)
  const out = new Map<string, string>()
  for (const action of ['insert', 'update', 'delete'] as const) {
    out.set(`${TRIGGER_PREFIX}${table}_${action}`, triggerSql(table, action, idExpr, columns))
  }
  return out
}

/**
 * Makes the capture triggers match the tracked tables' current columns, in one
 * transaction so that no write slips between a drop and a create. Unchanged triggers are
 * left alone.
 */
export function installSqliteCapture(db: BetterSqlite3.Database, tables: readonly string[]): void {
  const existing = new Map(
    (
      db
        .prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'trigger' AND name LIKE ?")
        .all(`${TRIGGER_PREFIX}%`) as { name: string; sql: string }[]
    ).map((t) => [t.name, t.sql]),
  )
  const desired = new Map<string, string>()
  for (const table of tables) for (const [n, sql] of desiredTriggers(db, table)) desired.set(n, sql)

  db.transaction(() => {
    for (const [name, sql] of existing) {
      if (desired.get(name) !== sql) db.exec(`DROP TRIGGER ${quoteIdent(name)}`)
    }
    for (const [name, sql] of desired) {
      if (existing.get(name) !== sql) db.exec(sql)
    }
  }).immediate()
}
