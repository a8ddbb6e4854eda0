import { type TObject, type TSchema, Type } from '@sinclair/typebox'
import { Value, ValueErrorType } from '@sinclair/typebox/value'
import { ConfigError } from '../errors.ts'

const strict = { additionalProperties: false } as const
const Opt = <T extends TSchema>(t: T) => Type.Optional(t)
const Int = (minimum: number, maximum = Number.MAX_SAFE_INTEGER) =>
  Type.Integer({ minimum, maximum })
/** A duration in ms. */
const Ms = Int(0)

const Health = Type.Object(
  { failingAfter: Opt(Int(1)), disableAfterMs: Opt(Ms), disableMinFailures: Opt(Int(1)) },
  strict,
)

export const DeliveryConfigSchema = Type.Object(
  {
    timeoutMs: Opt(Int(1)),
    retrySchedule: Opt(Type.Array(Ms, { minItems: 1, maxItems: 100 })),
    // 0 holds delivery (capture only).
    concurrency: Opt(Int(0, 100_000)),
    perSubscriptionConcurrency: Opt(Int(1, 100_000)),
    leaseMs: Opt(Int(1)),
    retryAfterMaxMs: Opt(Ms),
    connectionsPerOrigin: Opt(Int(1, 100_000)),
    rotationGraceMs: Opt(Ms),
    pollIntervalMs: Opt(Int(1)),
    health: Opt(Health),
    retentionMs: Opt(Ms),
    allowPrivateTargets: Opt(Type.Boolean()),
    allowedTargets: Opt(Type.Array(Type.String({ minLength: 1 }))),
    httpsOnly: Opt(Type.Boolean()),
    sendThread: Opt(Type.Boolean()),
  },
  strict,
)

export const CaptureConfigSchema = Type.Object(
  { batchSize: Opt(Int(1, 100_000)), pollIntervalMs: Opt(Int(1)), notify: Opt(Type.Boolean()) },
  strict,
)

const ServerConfigSchema = Type.Object(
  {
    port: Opt(Int(0, 65_535)),
    host: Opt(Type.String({ minLength: 1 })),
    apiKeys: Opt(Type.Array(Type.String({ minLength: 1 }))),
    bodyLimit: Opt(Int(1)),
  },
  strict,
)

const DatabaseConfigSchema = Type.Object(
  {
    url: Opt(Type.String({ minLength: 1 })),
    schema: Opt(Type.String({ minLength: 1 })),
    poolSize: Opt(Int(1, 10_000)),
  },
  strict,
)

export const HooklineConfigSchema = Type.Object(
  {
    database: Opt(Type.Union([Type.String({ minLength: 1 }), DatabaseConfigSchema])),
    events: Opt(Type.String({ minLength: 1 })),
    tracking: Opt(Type.String({ minLength: 1 })),
    // Each binding is checked with the tracking plan, which names the event and table.
    bindings: Opt(Type.Array(Type.Any())),
    initSql: Opt(
      Type.Union([
        Type.String({ minLength: 1 }),
        Type.Object({ sqlite: Opt(Type.String()), postgres: Opt(Type.String()) }, strict),
      ]),
    ),
    server: Opt(ServerConfigSchema),
    delivery: Opt(DeliveryConfigSchema),
    capture: Opt(CaptureConfigSchema),
  },
  strict,
)

/** The settings an object path accepts, for "not a setting" errors. */
function keysAt(schema: TSchema, path: string[]): string[] {
  let s: TSchema | undefined = schema
  for (const key of path) {
    const props: Record<string, TSchema> | undefined = (s as TObject | undefined)?.properties
    s = props?.[key]
    // A union (database, initSql): its object branch.
    if (s?.anyOf) s = (s.anyOf as TSchema[]).find((b) => b.type === 'object')
  }
  return Object.keys((s as TObject | undefined)?.properties ?? {})
}

/** TypeBox's "Expected integer to be greater or equal to 1", as a person would say it. */
function mustBe(message: string): string {
  return message
    .replace(/^Expected integer/, 'must be a whole number')
    .replace(/ to be greater or equal to /, ' ≥ ')
    .replace(/ to be less or equal to /, ' ≤ ')
    .replace(/^Expected boolean$/, 'must be true or false')
    .replace(/^Expected string length greater or equal to 1$/, 'must not be empty')
    .replace(/^Expected (string|number)$/, 'must be a $1')
    .replace(/^Expected array$/, 'must be a list')
    .replace(/^Expected object$/, 'must be an object')
    .replace(/^Expected/, 'must be')
}

/**
 * Checks settings against their schema; throws a ConfigError naming the first wrong
 * setting, what it must be, and where it came from (`where`, e.g. the config file).
 */
export function checkConfig(schema: TSchema, value: unknown, where: string, prefix = ''): void {
  const error = Value.Errors(schema, value).First()
  if (!error) return
  const path = error.path.split('/').filter(Boolean)
  const name = [prefix, ...path].filter(Boolean).join('.') || 'the config'
  const got = JSON.stringify(error.value) ?? String(error.value)
  const message =
    error.type === ValueErrorType.ObjectAdditionalProperties
      ? `${name} is not a setting (known here: ${keysAt(schema, path.slice(0, -1)).join(', ')})`
      : error.type === ValueErrorType.Union
        ? `${name} must be a string or an object with ${keysAt(schema, path).join(', ')}, not ${got}`
        : `${name} ${mustBe(error.message)}, not ${got}`
  throw new ConfigError(`${where}: ${message}`)
}
