import { defineEvent } from 'hookline'

export default defineEvent({
  description: 'A company was created',
  table: 'company',
  async build({ rowId, db }) {
    const c = await db.one<Record<string, unknown>>('SELECT * FROM company WHERE id = ?', [rowId])
    return { id: c.id, name: c.name, domain: c.domain }
  },
  sample: { id: 1, name: 'Example company', domain: 'example.com' },
})
