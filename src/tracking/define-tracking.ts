import type { Change, RowId } from '../storage/types.ts'

export interface TrackingContext {
  /** Fires an event for a row: its payload is built once and sent to every subscriber. */
  trigger(event: string, rowId?: RowId): void
}

export interface TrackingDefinition {
  /** Called once per changed row of the table, in commit order. */
  onChange(change: Change, ctx: TrackingContext): void | Promise<void>
}

/**
 * Declares the tracking handler of a table: which events a row change fires. The file's
 * name is the table's name.
 *
 * @example
 * // tracking/deal.ts
 * export default defineTracking({
 *   onChange(change, { trigger }) {
 *     if (change.action === 'insert' && change.after?.is_project === 1)
 *       trigger('NewOpportunity', change.rowId)
 *   },
 * })
 */
export function defineTracking(definition: TrackingDefinition): TrackingDefinition {
  return Object.freeze({ ...definition })
}

/** A rule that fires an event without code: `{ table: 'contact', on: 'insert', event: 'NewContact' }`. */
export interface Binding {
  readonly table: string
  readonly on: 'insert' | 'update' | 'delete'
  readonly when?: (change: Change) => boolean
  readonly event: string
}
