import { defineTracking } from 'hookline'

const isProject = (row: Record<string, unknown> | null) =>
  row?.is_project === 1 || row?.is_project === true

// The seed's SysNotification_Deal_ParseForEach: called once per changed deal row.
export default defineTracking({
  onChange(change, { trigger }) {
    if (change.action === 'insert' && isProject(change.after))
      trigger('NewOpportunity', change.rowId)
    if (change.action === 'update' && isProject(change.after)) {
      trigger('OpportunityUpdated', change.rowId)
      if (change.after?.stage === 'won' && change.before?.stage !== 'won')
        trigger('OpportunityWon', change.rowId)
    }
    if (change.action === 'delete') trigger('OpportunityDeleted', change.rowId)
  },
})
