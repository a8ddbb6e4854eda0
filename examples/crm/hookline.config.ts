import { defineConfig } from 'hookline'

// The demo CRM: tables company, contact and deal; events in ./events, the deal table's
// tracking handler in ./tracking/deal.ts, and two events fired by bindings alone.
export default defineConfig({
  initSql: { sqlite: 'schema.sqlite.sql', postgres: 'schema.postgres.sql' },
  bindings: [
    { table: 'contact', on: 'insert', event: 'NewContact' },
    { table: 'company', on: 'insert', event: 'NewCompany' },
  ],
})
