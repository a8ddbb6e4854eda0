import { defineEvent } from 'hookline'
import { dealPayload, dealSample } from '../payloads.ts'

// The seed's example: FuncServer_GetWebhookResponseBody_NewOpportunity.
export default defineEvent({
  description: 'A deal that is a project was created',
  table: 'deal',
  where: 'is_project = 1',
  build: ({ rowId, db }) => dealPayload(db, rowId),
  sample: dealSample,
})
