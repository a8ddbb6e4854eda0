import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.ts'
import { tempDbPath, tempDir } from '../helpers/temp.ts'
import { storeContract } from './store.contract.ts'

const dir = tempDir()

storeContract('SQLite', async () => {
  const store = openSqliteStore({ filename: tempDbPath(dir) })
  return {
    store,
    hooklineTable: (name) => `hookline_${name}`,
    dispose: () => store.close(),
  }
})
