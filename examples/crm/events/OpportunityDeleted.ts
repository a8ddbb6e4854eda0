import { defineEvent } from 'hookline'

export default defineEvent({
  description: 'A deal was deleted',
  table: 'deal',
  // The row is gone when the event fires: its last values come with the change.
  async build({ rowId, db, change }) {
    const row =
      change?.before ??
      (await db.maybeOne<Record<string, unknown>>('SELECT * FROM deal WHERE id = ?', [rowId]))
    return {
      id: rowId,
      name: row?.name ?? null,
      amount: row?.amount ?? null,
      stage: row?.stage ?? null,
    }
  },
  sample: { id: 1, name: 'Example deal', amount: 1000, stage: 'lost' },
})
