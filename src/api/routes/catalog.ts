import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { CatalogEntry } from '../../events/event-catalog.ts'
import type { Hookline } from '../../hookline.ts'
import { Envelope, EventEntry, EventParams, LimitQuery } from '../schemas.ts'
import { parseLimit } from './limit.ts'

function presentEvent(e: CatalogEntry) {
  return {
    name: e.name,
    description: e.definition.description,
    table: e.definition.table ?? null,
    schema: e.definition.schema ?? null,
    sample: e.definition.sample ?? null,
  }
}

/** The event catalog and REST Hooks perform-list. */
export function catalogRoutes(app: FastifyInstance, hookline: Hookline): void {
  const tag = 'events'
  app.get(
    '/api/v1/events',
    { schema: { doc: { summary: 'List the events', tag, response: Type.Array(EventEntry) } } },
    async () => hookline.catalog.list().map(presentEvent),
  )

  app.get<{ Params: Static<typeof EventParams> }>(
    '/api/v1/events/:event',
    {
      schema: {
        params: EventParams,
        doc: { summary: 'Describe an event', tag, response: EventEntry },
      },
    },
    async (req) => presentEvent(hookline.catalog.get(req.params.event)),
  )

  app.get<{ Params: Static<typeof EventParams>; Querystring: Static<typeof LimitQuery> }>(
    '/api/v1/webhooks/perform-list/:event',
    {
      schema: {
        params: EventParams,
        querystring: LimitQuery,
        doc: {
          summary: 'Perform-list: recent samples of an event, newest first',
          tag,
          response: Type.Array(Envelope),
        },
      },
    },
    async (req) => hookline.performList(req.params.event, parseLimit(req.query.limit, 3, 100)),
  )
}
