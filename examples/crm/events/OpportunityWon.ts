import { defineEvent } from 'hookline'
import { dealPayload, dealSample } from '../payloads.ts'

export default defineEvent({
  description: "A deal's stage became 'won'",
  table: 'deal',
  where: "stage = 'won'",
  build: ({ rowId, db }) => dealPayload(db, rowId),
  sample: { ...dealSample, stage: 'won' },
})
