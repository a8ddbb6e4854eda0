import type pg from 'pg'

/**
 * One maintenance statement for Hookline's busiest tables, run in the background by the
 * process that churns them whenever the rows it counted since the last time reach
 * `threshold` (of all it counted); never two at once. Autovacuum does this work at most
 * once a minute, and not at all where it is off, while a webhook outbox turns its tables
 * over thousands of times a minute.
 */
export class TableUpkeep {
  #running: Promise<void> | null = null
  #counted = 0
  #since = 0

  constructor(
    private readonly pool: pg.Pool,
    private readonly statement: string,
    private readonly threshold: (counted: number) => number,
  ) {}

  /** Counts rows just churned; starts the statement when due. */
  count(rows: number): void {
    this.#counted += rows
    this.#since += rows
    if (this.#since < this.threshold(this.#counted)) return
    this.#since = 0
    if (this.#running) return
    this.#running = this.pool
      .query(this.statement)
      // Only speed suffers if it fails (a restart, a lock): the next time due tries again.
      .then(
        () => {},
        () => {},
      )
      .finally(() => {
        this.#running = null
      })
  }

  /** Resolves once the statement in progress, if any, is done (tests, shutdown). */
  async settled(): Promise<void> {
    await this.#running
  }
}

/**
 * Keeps the planner's picture of the outbox tables current. PostgreSQL plans a claim from
 * table statistics; a deliveries table that grew from nothing to a million rows since its
 * last ANALYZE got a plan that read every due row of each subscription (measured: 7.9 s
 * per claim with a 1,000,000-delivery backlog; 0.11 s after ANALYZE). So the process that
 * writes deliveries analyzes them whenever what it wrote grew by half since the last time
 * (at least 1,000 rows): some 25 times on the way to a million.
 */
export function growthAnalyzer(pool: pg.Pool, tables: readonly string[]): TableUpkeep {
  return new TableUpkeep(pool, `ANALYZE ${tables.join(', ')}`, (written) =>
    Math.max(1000, written / 2),
  )
}

/**
 * Vacuums the change log every `every` consumed changes. Each change is inserted and then
 * deleted, and the consumer reads the log from its head, through the index entries of every
 * consumed change not yet vacuumed: without autovacuum, capture at 1,000 changes/s slowed
 * run after run (p50 5.7 → 11.6 ms over 67,000 consumed changes). The live log is small, so
 * each VACUUM is quick.
 */
export function churnVacuum(pool: pg.Pool, table: string, every: number): TableUpkeep {
  return new TableUpkeep(pool, `VACUUM ${table}`, () => every)
}
