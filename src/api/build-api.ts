import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify'
import type { Logger } from 'pino'
import { HooklineError } from '../errors.ts'
import type { Hookline } from '../hookline.ts'
import { bearerAuth } from './auth.ts'
import { toErrorResponse } from './error-status.ts'
import { catalogRoutes } from './routes/catalog.ts'
import { deliveryRoutes } from './routes/deliveries.ts'
import { subscriptionRoutes } from './routes/subscriptions.ts'
import { fromSchemaErrors } from './validation-error.ts'

export interface ApiOptions {
  /** Keys accepted as `Authorization: Bearer <key>`; at least one. */
  readonly apiKeys: readonly string[]
  /** Largest request body in bytes. Default 65 536. */
  readonly bodyLimit?: number
  readonly logger?: Logger
}

const PUBLIC_PATHS = new Set(['/healthz', '/readyz'])

/**
 * The HTTP API of DESIGN §3 on Fastify: REST Hooks subscriptions, perform-list, the event
 * catalog, the delivery log, health. Every error has the shape
 * `{"error": {"code", "message"}}`; unknown fields are refused.
 */
export async function buildApi(hookline: Hookline, options: ApiOptions): Promise<FastifyInstance> {
  if (options.apiKeys.length === 0)
    throw new HooklineError('invalid_config', 'the API needs at least one API key')
  const bodyLimit = options.bodyLimit ?? 65_536
  const app = Fastify({
    bodyLimit,
    loggerInstance: (options.logger ?? hookline.logger) as FastifyBaseLogger,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  })
  const checkKey = bearerAuth(options.apiKeys)

  app.addHook('onRequest', async (req) => {
    if (!PUBLIC_PATHS.has(req.url.split('?')[0]!)) checkKey(req.headers.authorization)
  })

  app.setSchemaErrorFormatter((errors, dataVar) =>
    fromSchemaErrors(
      errors as never,
      dataVar === 'querystring' ? 'query string' : dataVar === 'params' ? 'path' : 'body',
    ),
  )

  app.setErrorHandler((error, req, reply) => {
    const { status, body, internal } = toErrorResponse(error, bodyLimit)
    if (internal) req.log.error({ err: error, url: req.url }, 'api:error')
    if (status === 401) reply.header('www-authenticate', 'Bearer')
    return reply.status(status).send(body)
  })

  app.setNotFoundHandler((req, reply) =>
    reply.status(404).send({
      error: {
        code: 'not_found',
        message: `no route ${req.method} ${req.url.split('?')[0]}: see /openapi.json`,
      },
    }),
  )

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    try {
      await hookline.store.countPendingChanges()
      return { status: 'ready' }
    } catch {
      return reply.status(503).send({ status: 'unavailable' })
    }
  })

  subscriptionRoutes(app, hookline)
  catalogRoutes(app, hookline)
  deliveryRoutes(app, hookline)
  await app.ready()
  return app
}
