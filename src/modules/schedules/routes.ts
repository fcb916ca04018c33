import type { FastifyInstance } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { responses } from '../../http/schemas.ts'
import { notFound } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import { presentRun, runResponse } from '../operations/presenter.ts'
import { findRun } from '../operations/repository.ts'
import { deleteSchedule } from './delete-schedule.ts'
import { presentSchedule, scheduleResponse } from './presenter.ts'
import { findSchedule, listSchedules } from './repository.ts'
import { runScheduleNow } from './run-schedule-now.ts'
import { createSchedule, updateSchedule } from './save-schedule.ts'
import { createScheduleBody, scheduleParams, updateScheduleBody } from './schemas.ts'

export function registerScheduleRoutes(app: FastifyInstance, { db, auth, engine }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['schedules']

  async function load(tenantId: string, scheduleId: string) {
    const row = UUID_PATTERN.test(scheduleId) ? await findSchedule(db, tenantId, scheduleId) : undefined
    if (!row) throw notFound('Schedule')
    return presentSchedule(engine.catalog, row)
  }
  const known = (scheduleId: string) => {
    if (!UUID_PATTERN.test(scheduleId)) throw notFound('Schedule')
  }

  r.get(
    '/api/tenants/:tenantId/schedules',
    {
      schema: {
        tags,
        summary: "The tenant's schedules, by name, with their next slot and last run",
        params: tenantIdParams,
        response: responses({ 200: z.object({ data: z.array(scheduleResponse), next_cursor: z.null() }) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'operations.view')
      return {
        data: (await listSchedules(db, access.tenantId)).map((row) => presentSchedule(engine.catalog, row)),
        next_cursor: null,
      }
    },
  )

  r.post(
    '/api/tenants/:tenantId/schedules',
    {
      config: { capability: 'schedules.manage' },
      schema: {
        tags,
        summary: 'Schedule a schedulable operation type with a stored input, on a cron expression in an IANA time zone',
        params: tenantIdParams,
        body: createScheduleBody,
        response: responses({ 201: scheduleResponse }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      const row = await createSchedule(db, engine.catalog, access, auth.actorOf(request, principal), request.body)
      return reply.code(201).send(await load(access.tenantId, row.id))
    },
  )

  r.patch(
    '/api/tenants/:tenantId/schedules/:scheduleId',
    {
      config: { capability: 'schedules.manage' },
      schema: {
        tags,
        summary: 'Change a schedule (name, input, cron, time zone, enabled)',
        params: scheduleParams,
        body: updateScheduleBody,
        response: responses({ 200: scheduleResponse }),
      },
    },
    async (request) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      known(request.params.scheduleId)
      const row = await updateSchedule(
        db,
        engine.catalog,
        access,
        auth.actorOf(request, principal),
        request.params.scheduleId,
        request.body,
      )
      return load(access.tenantId, row.id)
    },
  )

  r.delete(
    '/api/tenants/:tenantId/schedules/:scheduleId',
    {
      config: { capability: 'schedules.manage' },
      schema: {
        tags,
        summary: 'Delete a schedule (its runs stay)',
        params: scheduleParams,
        response: responses({ 204: z.null() }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      known(request.params.scheduleId)
      await deleteSchedule(db, access, auth.actorOf(request, principal), request.params.scheduleId)
      return reply.code(204).send(null)
    },
  )

  r.post(
    '/api/tenants/:tenantId/schedules/:scheduleId/run',
    {
      schema: {
        tags,
        summary:
          "Run now: starts the schedule's type with its stored input as the caller (deduplicated like any start); " +
          'the schedule keeps its slots',
        params: scheduleParams,
        response: responses({ 202: z.object({ run: runResponse, deduplicated: z.boolean() }) }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId, 'operations.view')
      const row = UUID_PATTERN.test(request.params.scheduleId)
        ? await findSchedule(db, access.tenantId, request.params.scheduleId)
        : undefined
      if (!row) throw notFound('Schedule')
      const actor = auth.actorOf(request, principal)
      const { run, deduplicated } = await runScheduleNow(engine, access, actor, principal.user.id, row.schedule)
      const found = (await findRun(db, access.tenantId, run.id)) ?? { run, initiatorName: null, scheduleName: null }
      return reply.code(202).send({ run: presentRun(engine.catalog, access, found), deduplicated })
    },
  )
}
