import { type TSchema, Type } from '@sinclair/typebox'

const strict = { additionalProperties: false } as const
const Url = Type.String({ minLength: 1, maxLength: 4096 })
const Headers = Type.Record(Type.String(), Type.String())
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()])

/** REST Hooks clients name the URL differently: all of these are accepted. */
export const TARGET_URL_ALIASES = ['target_url', 'url', 'targetUrl', 'hookUrl', 'target'] as const

const urlAliases = Object.fromEntries(TARGET_URL_ALIASES.map((k) => [k, Type.Optional(Url)]))

/** `strict`: one message at a time, in event order. */
const Ordering = Type.String({ enum: ['concurrent', 'strict'] })
/** Attempts in flight to the subscription at once; null: the server's default. */
const MaxConcurrency = Nullable(Type.Integer({ minimum: 1, maximum: 1000 }))

export const SubscribeBody = Type.Object(
  {
    event: Type.String({ minLength: 1, maxLength: 200 }),
    ...urlAliases,
    headers: Type.Optional(Headers),
    ordering: Type.Optional(Ordering),
    max_concurrency: Type.Optional(MaxConcurrency),
  },
  strict,
)

export const UnsubscribeBody = Type.Object(
  { ...urlAliases, event: Type.Optional(Type.String({ maxLength: 200 })) },
  strict,
)

export const PatchSubscriptionBody = Type.Object(
  {
    status: Type.Optional(Type.String()),
    target_url: Type.Optional(Url),
    headers: Type.Optional(Headers),
    ordering: Type.Optional(Ordering),
    max_concurrency: Type.Optional(MaxConcurrency),
  },
  { ...strict, minProperties: 1 },
)

export const IdParams = Type.Object({ id: Type.String({ maxLength: 200 }) })
export const EventParams = Type.Object({ event: Type.String({ maxLength: 200 }) })

export const SubscriptionQuery = Type.Object(
  { event: Type.Optional(Type.String()), target_url: Type.Optional(Type.String()) },
  strict,
)
export const LimitQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: '^[0-9]+$' })) },
  strict,
)
export const DeliveryQuery = Type.Object(
  {
    subscription_id: Type.Optional(Type.String()),
    status: Type.Optional(Type.String()),
    event: Type.Optional(Type.String()),
    limit: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
  },
  strict,
)

export const Subscription = Type.Object({
  id: Type.String(),
  event: Type.String(),
  target_url: Type.String(),
  status: Type.Union([Type.Literal('active'), Type.Literal('disabled')]),
  secret: Type.String(),
  headers: Headers,
  ordering: Ordering,
  max_concurrency: MaxConcurrency,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
  disabled_reason: Type.Optional(Nullable(Type.String())),
})

export const RecoverBody = Type.Object(
  { since: Type.String({ minLength: 1, maxLength: 64, description: 'an ISO 8601 time' }) },
  strict,
)

export const ErrorResponse = Type.Object({
  error: Type.Object({ code: Type.String(), message: Type.String() }),
})

/** The body of a delivery, and of each perform-list sample (DESIGN §4). */
export const Envelope = Type.Object({
  id: Type.String(),
  type: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  data: Type.Unknown(),
})

export const EventEntry = Type.Object({
  name: Type.String(),
  description: Type.String(),
  table: Nullable(Type.String()),
  schema: Nullable(Type.Object({})),
  sample: Type.Unknown(),
})

const Time = Nullable(Type.String({ format: 'date-time' }))

export const Delivery = Type.Object({
  id: Type.String(),
  message_id: Type.String(),
  subscription_id: Type.String(),
  event: Type.String(),
  status: Type.String(),
  attempts: Type.Integer(),
  next_attempt_at: Time,
  last_status_code: Nullable(Type.Integer()),
  last_error: Nullable(Type.String()),
  created_at: Time,
  updated_at: Time,
})

export const Attempt = Type.Object({
  id: Type.Integer(),
  attempted_at: Time,
  duration_ms: Type.Number(),
  status_code: Nullable(Type.Integer()),
  response_body: Nullable(Type.String()),
  error: Nullable(Type.String()),
})

export const DeliveryWithAttempts = Type.Composite([
  Delivery,
  Type.Object({ attempt_log: Type.Array(Attempt) }),
])

export const Health = Type.Object({ status: Type.String() })
