import type pg from 'pg'

/**
 * Keeps the planner's picture of Hookline's busiest tables current. PostgreSQL plans a
 * claim from table statistics; a deliveries table that grew from nothing to a million rows
 * since its last ANALYZE got a plan that read every due row of each subscription (measured:
 * 7.9 s per claim with a 1,000,000-delivery backlog; 0.11 s after ANALYZE). Autovacuum
 * analyzes at most once a minute, and not at all where it is off; so the process that
 * writes deliveries analyzes them itself whenever what it wrote grew by half since the
 * last time (at least 1,000 rows): some 25 times on the way to a million.
 */
export class GrowthAnalyzer {
  #written = 0
  #since = 0
  #running: Promise<void> | null = null

  constructor(
    private readonly pool: pg.Pool,
    private readonly tables: readonly string[],
  ) {}

  /** Counts rows just written; starts an ANALYZE in the background when due. */
  wrote(rows: number): void {
    this.#written += rows
    this.#since += rows
    if (this.#running || this.#since < Math.max(1000, this.#written / 2)) return
    this.#since = 0
    this.#running = this.pool
      .query(`ANALYZE ${this.tables.join(', ')}`)
      // Only the plans suffer if it fails (a restart, a lock): the next growth tries again.
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        this.#running = null
      })
  }

  /** Resolves once the ANALYZE in progress, if any, is done (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#running
  }
}
