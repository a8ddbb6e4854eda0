import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify'
import type { Logger } from 'pino'
import { HooklineError } from '../errors.ts'
import type { Hookline } from '../hookline.ts'
import { createMetrics } from '../metrics/metrics.ts'
import { VERSION } from '../version.ts'
import { bearerAuth } from './auth.ts'
import { toErrorResponse } from './error-status.ts'
import { openApiDocument, recordRoutes } from './openapi.ts'
import { catalogRoutes } from './routes/catalog.ts'
import { changeRoutes } from './routes/changes.ts'
import { deliveryRoutes } from './routes/deliveries.ts'
import { subscriptionRoutes } from './routes/subscriptions.ts'
import { Health } from './schemas.ts'
import { fromSchemaErrors } from './validation-error.ts'

export interface ApiOptions {
  /** Keys accepted as `Authorization: Bearer <key>`; at least one. */
  readonly apiKeys: readonly string[]
  /** Largest request body in bytes. Default 65 536. */
  readonly bodyLimit?: number
  readonly logger?: Logger
}

const PUBLIC_PATHS = new Set(['/healthz', '/readyz', '/openapi.json'])

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
    // A malformed or overlong path is answered before routing: keep the error shape there too.
    frameworkErrors: (error, _req, reply) => {
      const { status, body } = toErrorResponse(error, bodyLimit)
      return (reply as FastifyReply).status(status).send(body)
    },
  })
  const routes = recordRoutes(app)
  const checkKey = bearerAuth(options.apiKeys)

  app.addHook('onRequest', async (req) => {
    if (!PUBLIC_PATHS.has(req.url.split('?')[0]!)) checkKey(req.headers.authorization)
  })

  // JSON only: a text/plain body is refused (415) instead of failing validation as a string.
  // An empty JSON body is fine on routes that take none: many HTTP clients send
  // content-type: application/json on every DELETE.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser(['application/json', 'text/plain'])
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (body === '' && !req.routeOptions.schema?.body) return done(null, undefined)
    parseJson(req, body as string, done)
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

  const health = (summary: string) => ({
    schema: { doc: { summary, tag: 'health', response: Health, public: true } },
  })
  app.get('/healthz', health('Liveness'), async () => ({ status: 'ok' }))
  app.get('/readyz', health('Readiness: the database answers'), async (_req, reply) => {
    try {
      await hookline.store.countPendingChanges()
      return { status: 'ready' }
    } catch {
      return reply.status(503).send({ status: 'unavailable' })
    }
  })

  const metrics = createMetrics(hookline)
  app.get(
    '/metrics',
    { schema: { doc: { summary: 'Prometheus metrics (text format)', tag: 'health' } } },
    async (_req, reply) => reply.type(metrics.contentType).send(await metrics.metrics()),
  )

  subscriptionRoutes(app, hookline)
  catalogRoutes(app, hookline)
  deliveryRoutes(app, hookline)
  changeRoutes(app, hookline)
  app.get(
    '/openapi.json',
    { schema: { doc: { summary: 'This OpenAPI document', tag: 'health', public: true } } },
    async () => openApiDocument(routes, VERSION),
  )
  await app.ready()
  return app
}
