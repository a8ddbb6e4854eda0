import type { Store } from '../storage/store.ts'
import { buildPayloads } from './build-payloads.ts'
import { type Envelope, envelope, sampleId } from './envelope.ts'
import type { CatalogEntry } from './event-catalog.ts'

/**
 * Sample envelopes for a subscriber setting up an automation (REST Hooks perform-list):
 * the event's builder run on the most recent rows of its table, newest first, or its
 * `sample` when the table has no rows.
 */
export async function performList(
  entry: CatalogEntry,
  store: Store,
  limit: number,
  now: number,
): Promise<Envelope[]> {
  const { definition } = entry
  const rowIds = definition.table
    ? await store.recentRowIds(definition.table, limit, definition.where)
    : []
  if (rowIds.length === 0) {
    return definition.sample === undefined
      ? []
      : [envelope(sampleId(entry.name, null), entry.name, now, definition.sample)]
  }
  const built = await buildPayloads(
    definition,
    rowIds.map((rowId) => ({ rowId, change: null })),
    store.db,
  )
  return built.map((b, i) => {
    if ('error' in b) throw b.error
    return envelope(sampleId(entry.name, rowIds[i]!), entry.name, now, b.data)
  })
}
