import { type Static, Type } from '@sinclair/typebox'
import type { FastifyInstance } from 'fastify'
import type { Hookline } from '../../hookline.ts'
import type { FailedChange } from '../../storage/types.ts'
import { LimitQuery } from '../schemas.ts'
import { parseLimit } from './limit.ts'

const tag = 'changes'

const FailedChangeSchema = Type.Object({
  id: Type.Integer(),
  table: Type.String(),
  action: Type.String(),
  row_id: Type.Union([Type.String(), Type.Number()]),
  error: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
})

const RetryChangesBody = Type.Object(
  { ids: Type.Optional(Type.Array(Type.Integer({ minimum: 1 }), { maxItems: 10_000 })) },
  { additionalProperties: false },
)

function presentFailedChange(c: FailedChange) {
  return {
    id: c.id,
    table: c.table,
    action: c.action,
    row_id: c.rowId,
    error: c.error,
    created_at: new Date(c.createdAt).toISOString(),
  }
}

/** Changes set aside by a failing tracking handler or payload builder, and their replay. */
export function changeRoutes(app: FastifyInstance, hookline: Hookline): void {
  app.get<{ Querystring: Static<typeof LimitQuery> }>(
    '/api/v1/changes/failed',
    {
      schema: {
        querystring: LimitQuery,
        doc: {
          summary: 'List changes set aside by a failing handler',
          tag,
          response: Type.Array(FailedChangeSchema),
        },
      },
    },
    async (req) =>
      (await hookline.failedChanges(parseLimit(req.query.limit, 100, 1000))).map(
        presentFailedChange,
      ),
  )

  app.post<{ Body: Static<typeof RetryChangesBody> }>(
    '/api/v1/changes/retry',
    {
      schema: {
        body: RetryChangesBody,
        doc: {
          summary: 'Process set-aside changes again (the given ids, or all)',
          tag,
          status: 202,
          response: Type.Object({ retried: Type.Integer() }),
        },
      },
    },
    async (req, reply) =>
      reply.status(202).send({ retried: await hookline.retryFailedChanges(req.body.ids) }),
  )
}
