import { ConfigError, HooklineError } from '../errors.ts'
import type { EventCatalog } from '../events/event-catalog.ts'
import type { Change, RowId } from '../storage/types.ts'
import type { Binding, TrackingDefinition } from './define-tracking.ts'

export interface TrackingSource {
  /** The table's name: the file name without extension. */
  readonly table: string
  readonly file?: string
  readonly definition: TrackingDefinition
  /** Event names found in `trigger('…')` calls of the file, checked at start-up. */
  readonly staticTriggers?: readonly string[]
}

export interface Triggered {
  readonly event: string
  readonly rowId: RowId
}

type Handler = (change: Change) => Promise<Triggered[]>

/**
 * Which tables are tracked and what each change of theirs fires: the code handlers of
 * `tracking/<table>.ts` and the config's bindings, checked against the event catalog and
 * the database.
 */
export class TrackingPlan {
  readonly #handlers = new Map<string, Handler[]>()

  private constructor(private readonly catalog: EventCatalog) {}

  static async create(options: {
    catalog: EventCatalog
    sources: readonly TrackingSource[]
    bindings: readonly Binding[]
    tableExists: (table: string) => Promise<boolean>
  }): Promise<TrackingPlan> {
    const plan = new TrackingPlan(options.catalog)
    const seen = new Map<string, TrackingSource>()
    for (const source of options.sources) {
      const where = source.file ?? `tracking handler of '${source.table}'`
      const clash = seen.get(source.table)
      if (clash) {
        throw new ConfigError(
          `table '${source.table}' has two tracking handlers (${clash.file ?? 'code'} and ${where}): merge them into one`,
          { file: source.file },
        )
      }
      seen.set(source.table, source)
      if (typeof source.definition.onChange !== 'function') {
        throw new ConfigError(
          `${where}: no onChange() function: export default defineTracking({ onChange(change, { trigger }) { … } })`,
          { file: source.file },
        )
      }
      if (!(await options.tableExists(source.table))) {
        throw new ConfigError(
          `${where} tracks table '${source.table}', which does not exist in the database: rename the file after an existing table, or create the table first`,
          { file: source.file },
        )
      }
      for (const event of source.staticTriggers ?? []) {
        if (!options.catalog.has(event)) {
          throw new ConfigError(
            `${where} triggers unknown event '${event}': add events/${event}.ts or fix the name (known: ${options.catalog.names.join(', ') || 'none'})`,
            { file: source.file },
          )
        }
      }
      plan.#add(source.table, plan.#codeHandler(source))
    }
    for (const [i, binding] of options.bindings.entries()) {
      const where = `config bindings[${i}]`
      if (!options.catalog.has(binding.event)) {
        throw new ConfigError(
          `${where} fires unknown event '${binding.event}': add events/${binding.event}.ts or fix the name (known: ${options.catalog.names.join(', ') || 'none'})`,
        )
      }
      if (!['insert', 'update', 'delete'].includes(binding.on)) {
        throw new ConfigError(
          `${where}: 'on' is '${binding.on}'; use 'insert', 'update' or 'delete'`,
        )
      }
      if (!(await options.tableExists(binding.table))) {
        throw new ConfigError(
          `${where} binds table '${binding.table}', which does not exist in the database: fix the table name`,
        )
      }
      plan.#add(binding.table, async (change) =>
        change.action === binding.on && (binding.when?.(change) ?? true)
          ? [{ event: binding.event, rowId: change.rowId }]
          : [],
      )
    }
    return plan
  }

  #add(table: string, handler: Handler) {
    const list = this.#handlers.get(table) ?? []
    list.push(handler)
    this.#handlers.set(table, list)
  }

  #codeHandler(source: TrackingSource): Handler {
    return async (change) => {
      const fired: Triggered[] = []
      await source.definition.onChange(change, {
        trigger: (event, rowId = change.rowId) => {
          if (!this.catalog.has(event)) {
            throw new HooklineError(
              'unknown_event',
              `${source.file ?? source.table} triggered unknown event '${event}' (known: ${this.catalog.names.join(', ')})`,
            )
          }
          fired.push({ event, rowId })
        },
      })
      return fired
    }
  }

  /** The tables whose changes are captured. */
  get tables(): string[] {
    return [...this.#handlers.keys()].sort()
  }

  /** The events one change fires, in the order its handlers fired them. */
  async run(change: Change): Promise<Triggered[]> {
    const out: Triggered[] = []
    for (const handler of this.#handlers.get(change.table) ?? [])
      out.push(...(await handler(change)))
    return out
  }
}
