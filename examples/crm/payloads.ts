import type { Db, RowId } from 'hookline'

/** The deal as every deal event sends it, with its company and contact names. */
export async function dealPayload(db: Db, rowId: RowId) {
  const deal = await db.one<Record<string, unknown>>(
    `SELECT d.*, c.name AS company_name, p.first_name || ' ' || p.last_name AS contact_name
     FROM deal d LEFT JOIN company c ON c.id = d.company_id LEFT JOIN contact p ON p.id = d.contact_id
     WHERE d.id = ?`,
    [rowId],
  )
  return {
    id: deal.id,
    name: deal.name,
    amount: deal.amount,
    currency: deal.currency,
    stage: deal.stage,
    is_project: deal.is_project === 1 || deal.is_project === true,
    company: deal.company_id === null ? null : { id: deal.company_id, name: deal.company_name },
    contact: deal.contact_id === null ? null : { id: deal.contact_id, name: deal.contact_name },
    created_at: deal.created_at,
    updated_at: deal.updated_at,
  }
}

export const dealSample = {
  id: 1,
  name: 'Example deal',
  amount: 1000,
  currency: 'EUR',
  stage: 'lead',
  is_project: true,
  company: { id: 1, name: 'Example company' },
  contact: { id: 1, name: 'Example contact' },
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
}
