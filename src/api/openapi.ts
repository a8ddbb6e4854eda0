import type { TSchema } from '@sinclair/typebox'
import type { FastifyInstance, FastifySchema } from 'fastify'
import { ErrorResponse } from './schemas.ts'

/** What `/openapi.json` says about a route, beside its request schemas. */
export interface RouteDoc {
  readonly summary: string
  readonly tag: string
  /** Success status. Default 200. */
  readonly status?: number
  /** Schema of the success body; none for an empty answer (204). */
  readonly response?: TSchema
  /** Reachable without an API key. */
  readonly public?: boolean
}

declare module 'fastify' {
  interface FastifySchema {
    /** Read only by the OpenAPI builder; Fastify ignores it. */
    readonly doc?: RouteDoc
  }
}

interface DocumentedRoute {
  readonly method: string
  readonly url: string
  readonly schema: FastifySchema & { readonly doc: RouteDoc }
}

/** Records every documented route as it is registered. Call before adding routes. */
export function recordRoutes(app: FastifyInstance): DocumentedRoute[] {
  const routes: DocumentedRoute[] = []
  app.addHook('onRoute', (route) => {
    const schema = route.schema
    if (!schema?.doc) return
    const methods = Array.isArray(route.method) ? route.method : [route.method]
    for (const method of methods)
      if (method !== 'HEAD')
        routes.push({ method, url: route.url, schema: { ...schema, doc: schema.doc } })
  })
  return routes
}

interface ObjectSchema {
  readonly properties?: Record<string, unknown>
  readonly required?: readonly string[]
}

function parameters(schema: unknown, where: 'path' | 'query') {
  const { properties = {}, required = [] } = (schema ?? {}) as ObjectSchema
  return Object.entries(properties).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || required.includes(name),
    schema: s,
  }))
}

const json = (schema: unknown) => ({ 'application/json': { schema } })
const errorBody = json({ $ref: '#/components/schemas/Error' })

/** `Read a subscription` → `readASubscription`: unique, since summaries are. */
const operationId = (summary: string) =>
  summary
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w, i) => (i === 0 ? w.toLowerCase() : w[0]!.toUpperCase() + w.slice(1).toLowerCase()))
    .join('')

function operation({ schema }: DocumentedRoute) {
  const { doc } = schema
  const status = doc.status ?? 200
  const responses: Record<string, unknown> = {
    [status]: {
      description: status === 204 ? 'done' : 'success',
      ...(doc.response ? { content: json(doc.response) } : {}),
    },
    '4XX': { description: 'the request cannot be served as it is', content: errorBody },
  }
  if (!doc.public)
    responses['401'] = { description: 'missing or wrong API key', content: errorBody }
  return {
    operationId: operationId(doc.summary),
    summary: doc.summary,
    tags: [doc.tag],
    ...(doc.public ? { security: [] } : {}),
    parameters: [...parameters(schema.params, 'path'), ...parameters(schema.querystring, 'query')],
    ...(schema.body ? { requestBody: { required: true, content: json(schema.body) } } : {}),
    responses,
  }
}

/**
 * An OpenAPI 3.1 document of the API, built from the routes' own TypeBox schemas, so the
 * description cannot drift from what the server validates.
 */
export function openApiDocument(routes: readonly DocumentedRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of routes) {
    const path = route.url.replace(/:([A-Za-z_]+)/g, '{$1}')
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route) }
  }
  // JSON round trip: drops TypeBox's symbol keys and shares nothing with the live schemas.
  return JSON.parse(
    JSON.stringify({
      openapi: '3.1.0',
      info: {
        title: 'Hookline API',
        version,
        description:
          'REST Hooks subscriptions, perform-list, the event catalog and the delivery log of a Hookline service.',
      },
      servers: [{ url: '/' }],
      security: [{ bearerAuth: [] }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
        schemas: { Error: ErrorResponse },
      },
      paths,
    }),
  ) as Record<string, unknown>
}
