import { fileURLToPath } from 'node:url'
import { configDefaults, defineConfig } from 'vitest/config'

/** Restarts the test PostgreSQL server: runs alone, after every other file. */
const RESTART_TEST = 'test/e2e/postgres-restart.test.ts'

export default defineConfig({
  resolve: { alias: { hookline: fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'hookline',
          include: ['test/**/*.test.ts'],
          exclude: [...configDefaults.exclude, RESTART_TEST],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'postgres-restart', include: [RESTART_TEST], sequence: { groupOrder: 1 } },
      },
    ],
  },
})
