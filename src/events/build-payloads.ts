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
 * failure belongs to its own row (`onFallback` hears why, for the log).
 */
export async function buildPayloads(
  definition: EventDefinition,
  items: readonly BuildItem[],
  db: Db,
  onFallback?: (error: Error) => void,
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
      onFallback?.(
        new Error(
          `buildMany returned ${Array.isArray(data) ? `${data.length} entries` : typeof data} for ${items.length} row ids: it must return one entry per row id, in order`,
        ),
      )
    } catch (error) {
      onFallback?.(asError(error))
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
