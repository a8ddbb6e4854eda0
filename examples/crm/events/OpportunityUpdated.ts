import { defineEvent } from 'hookline'
import { dealPayload, dealSample } from '../payloads.ts'

export default defineEvent({
  description: 'A deal that is a project was changed',
  table: 'deal',
  where: 'is_project = 1',
  async build({ rowId, db, change }) {
    const changed =
      change?.before && change.after
        ? Object.keys(change.after).filter((k) => change.before?.[k] !== change.after?.[k])
        : []
    return { ...(await dealPayload(db, rowId)), changed_fields: changed }
  },
  sample: { ...dealSample, changed_fields: ['amount'] },
})
