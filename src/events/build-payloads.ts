import { asError } from '../errors.ts'
import type { Change, Db, RowId } from '../storage/types.ts'
import type { EventDefinition } from './define-event.ts'

/** The data built for one row, or what stopped it. */
export type Built = { readonly data: unknown } | { readonly error: Error }

export interface BuildItem {
  readonly rowId: RowId
  readonly change: Change | null
}

/**
 * The event's data for each item, in order, or the error that stopped it. With
 * `buildMany`, one call for all of them; if that fails, `build` row by row, so that each
 * failure belongs to its own row.
 */
export async function buildPayloads(
  definition: EventDefinition,
  items: readonly BuildItem[],
  db: Db,
): Promise<Built[]> {
  if (items.length === 0) return []
  if (definition.buildMany && items.length > 1) {
    try {
      const data = await definition.buildMany({
        rowIds: items.map((i) => i.rowId),
        changes: items.map((i) => i.change),
        db,
      })
      if (Array.isArray(data) && data.length === items.length) return data.map((d) => ({ data: d }))
    } catch {
      // Fall through: build row by row to find the row at fault.
    }
  }
  return Promise.all(
    items.map(async ({ rowId, change }) => {
      try {
        return { data: await definition.build({ rowId, db, change }) }
      } catch (error) {
        return { error: asError(error) }
      }
    }),
  )
}
