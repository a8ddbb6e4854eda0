import type { Change, Db, RowId } from '../storage/types.ts'

export interface BuildContext {
  /** The id of the row the event is about. */
  readonly rowId: RowId
  /** Query helper on the application's database (`?` placeholders, both stores). */
  readonly db: Db
  /**
   * The captured change that fired the event, with the row before and after; `null` when
   * the builder serves perform-list or `trigger()` from app code. A builder for a delete
   * event reads `change.before`, since the row is gone.
   */
  readonly change: Change | null
}

export interface BuildManyContext {
  /** The rows the events are about, in the order the data must come back. */
  readonly rowIds: readonly RowId[]
  readonly db: Db
  /** The captured change behind each row id (same order); `null` for perform-list. */
  readonly changes: readonly (Change | null)[]
}

export interface EventDefinition<T = unknown> {
  /** Optional; when given it must equal the file name (the file name IS the event name). */
  readonly name?: string
  readonly description: string
  /** The table whose most recent rows perform-list builds samples from. */
  readonly table?: string
  /**
   * An SQL condition on `table` choosing which rows make good samples for perform-list,
   * e.g. `'is_project = 1'`. Default: every row.
   */
  readonly where?: string
  /** Builds the event's data once, when it fires, and for perform-list samples. */
  build(ctx: BuildContext): T | Promise<T>
  /**
   * Optional: builds the data of many rows at once, one entry per row id in the same
   * order, e.g. with one `WHERE id IN (…)` query instead of one query per row. Capture
   * (a batch of changes) and perform-list use it when given; `build` still serves single
   * rows (`trigger()`, test sends), and rows of a batch whose `buildMany` throws or
   * answers with the wrong number of entries, so a failure is pinned on its own change.
   */
  buildMany?(ctx: BuildManyContext): readonly T[] | Promise<readonly T[]>
  /** Served by perform-list when `table` has no rows yet, and by test sends. */
  readonly sample?: T
  /** JSON Schema of the data, shown in the event catalog. */
  readonly schema?: Record<string, unknown>
}

/**
 * Declares a webhook event: the data it sends. The file's name is the event's name.
 *
 * @example
 * // events/NewOpportunity.ts
 * export default defineEvent({
 *   description: 'A deal that is a project was created',
 *   table: 'deal',
 *   async build({ rowId, db }) {
 *     const deal = await db.one('select * from deal where id = ?', [rowId])
 *     return { id: deal.id, name: deal.name, amount: deal.amount }
 *   },
 *   sample: { id: 1, name: 'Example deal', amount: 1000 },
 * })
 */
export function defineEvent<T>(definition: EventDefinition<T>): EventDefinition<T> {
  return Object.freeze({ ...definition })
}
