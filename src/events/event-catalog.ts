import { ConfigError, NotFoundError } from '../errors.ts'
import type { EventDefinition } from './define-event.ts'

export interface EventSource {
  /** The event's name: its file name without extension. */
  readonly name: string
  /** Where it was declared, for error messages (absent for events passed in code). */
  readonly file?: string
  readonly definition: EventDefinition
}

export interface CatalogEntry {
  readonly name: string
  readonly file: string | undefined
  readonly definition: EventDefinition
}

const PASCAL_CASE = /^[A-Z][A-Za-z0-9]*$/

/** The known events, checked once at start-up. */
export class EventCatalog {
  readonly #entries = new Map<string, CatalogEntry>()

  constructor(sources: readonly EventSource[]) {
    const lowerNames = new Map<string, EventSource>()
    for (const source of sources) {
      const where = source.file ?? `event '${source.name}'`
      const declared = source.definition.name
      if (declared !== undefined && declared !== source.name) {
        throw new ConfigError(
          `${where} declares name '${declared}' but its file name makes it '${source.name}': rename the file to ${declared}.ts or the event to '${source.name}'`,
          { file: source.file },
        )
      }
      if (!PASCAL_CASE.test(source.name)) {
        throw new ConfigError(
          `${where}: event name '${source.name}' is not PascalCase (like 'NewOpportunity'): rename the file`,
          { file: source.file },
        )
      }
      if (typeof source.definition.build !== 'function') {
        throw new ConfigError(
          `${where}: the event has no build() function: export default defineEvent({ description, build({ rowId, db }) { … } })`,
          { file: source.file },
        )
      }
      const { buildMany } = source.definition
      if (buildMany !== undefined && typeof buildMany !== 'function') {
        throw new ConfigError(
          `${where}: buildMany must be a function ({ rowIds, db, changes }) => data[], one entry per row id`,
          { file: source.file },
        )
      }
      const clash = lowerNames.get(source.name.toLowerCase())
      if (clash) {
        throw new ConfigError(
          `event '${source.name}' is declared twice (${clash.file ?? clash.name} and ${where}): keep one of them`,
          { file: source.file },
        )
      }
      lowerNames.set(source.name.toLowerCase(), source)
      this.#entries.set(source.name, {
        name: source.name,
        file: source.file,
        definition: source.definition,
      })
    }
  }

  get names(): string[] {
    return [...this.#entries.keys()].sort()
  }

  has(name: string): boolean {
    return this.#entries.has(name)
  }

  list(): CatalogEntry[] {
    return this.names.map((n) => this.#entries.get(n)!)
  }

  /** The event, or a 404-class error that lists the known ones. */
  get(name: string): CatalogEntry {
    const entry = this.#entries.get(name)
    if (!entry) {
      throw new NotFoundError(
        'unknown_event',
        `unknown event '${name}': known events are ${this.names.map((n) => `'${n}'`).join(', ') || '(none)'}`,
        { known_events: this.names },
      )
    }
    return entry
  }
}
