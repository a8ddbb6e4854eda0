import { defineEvent } from 'hookline'

export default defineEvent({
  description: 'A contact was created',
  table: 'contact',
  async build({ rowId, db }) {
    const c = await db.one<Record<string, unknown>>('SELECT * FROM contact WHERE id = ?', [rowId])
    return {
      id: c.id,
      first_name: c.first_name,
      last_name: c.last_name,
      email: c.email,
      company_id: c.company_id,
    }
  },
  sample: {
    id: 1,
    first_name: 'Ada',
    last_name: 'Lovelace',
    email: 'ada@example.com',
    company_id: 1,
  },
})
