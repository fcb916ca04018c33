import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import type { HttpDeps } from '../../http/deps.ts'
import { listEnvelope, responses } from '../../http/schemas.ts'
import { decodeCursor, encodeCursor } from '../../lib/cursor.ts'
import { notFound } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { presentChannel, presentDelivery, presentRule } from './presenter.ts'
import { type AlertsReach, alertsReach, requireAdmin, ruleWithin } from './reach.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import { listChannels, listDeliveries, listRules } from './repository.ts'
import { createChannel, deleteChannel, updateChannel } from './save-channel.ts'
import { createRule, deleteRule, updateRule } from './save-rule.ts'
import {
  channelParams,
  channelResponse,
  createChannelBody,
  createdChannelResponse,
  createRuleBody,
  deliveriesQuery,
  deliveryResponse,
  ruleParams,
  ruleResponse,
  testResponse,
  updateChannelBody,
  updateRuleBody,
} from './schemas.ts'
import { testChannel } from './test-channel.ts'

/** Where the console is, for links in alert messages. */
export const consoleUrlOf = (config: HttpDeps['config']) => config.publicUrl ?? `http://localhost:${config.port}`

/**
 * Alerts (ADR 030): channels (workspace admins), rules (admins; tenant owners for their own
 * tenants) and the delivery log. Workspace-level routes: a token needs `alerts.manage`.
 */
export function registerAlertRoutes(app: FastifyInstance, { db, auth, secrets, config }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['alerts']
  const reaches = new WeakMap<FastifyRequest, Promise<Reached>>()
  type Reached = { reach: AlertsReach; actor: Actor }
  function reachOf(request: FastifyRequest): Promise<Reached> {
    let reached = reaches.get(request)
    if (!reached) {
      reached = auth.principalOf(request).then(async (principal) => ({
        reach: await alertsReach(db, principal),
        actor: auth.actorOf(request, principal),
      }))
      reaches.set(request, reached)
    }
    return reached
  }
  // Who may use the route is decided before the body is validated (403 first, nothing learnt from a 422).
  const guarded = {
    config: { scope: 'alerts.manage' as const },
    preValidation: async (request: FastifyRequest) => void (await reachOf(request)),
  }
  const adminOnly = {
    config: { scope: 'alerts.manage' as const },
    preValidation: async (request: FastifyRequest) => requireAdmin((await reachOf(request)).reach),
  }
  const known = (id: string, what: string) => {
    if (!UUID_PATTERN.test(id)) throw notFound(what)
  }

  r.get(
    '/api/alert-channels',
    {
      ...guarded,
      schema: {
        tags,
        summary: 'Alert channels, by name (targets masked)',
        response: responses({ 200: listEnvelope(channelResponse) }),
      },
    },
    async (request) => {
      await reachOf(request)
      return { data: (await listChannels(db)).map(presentChannel), next_cursor: null }
    },
  )

  r.post(
    '/api/alert-channels',
    {
      ...adminOnly,
      schema: {
        tags,
        summary: "Create a channel (workspace admins); a webhook's generated secret is in this answer only",
        body: createChannelBody,
        response: responses({ 201: createdChannelResponse }),
      },
    },
    async (request, reply) => {
      const { actor } = await reachOf(request)
      const { channel, secret } = await createChannel(db, secrets, actor, request.body)
      return reply.code(201).send({ ...presentChannel(channel), ...(secret ? { secret } : {}) })
    },
  )

  r.patch(
    '/api/alert-channels/:channelId',
    {
      ...adminOnly,
      schema: {
        tags,
        summary: 'Rename a channel or replace its target (workspace admins)',
        params: channelParams,
        body: updateChannelBody,
        response: responses({ 200: channelResponse }),
      },
    },
    async (request) => {
      const { actor } = await reachOf(request)
      known(request.params.channelId, 'Alert channel')
      return presentChannel(await updateChannel(db, secrets, actor, request.params.channelId, request.body))
    },
  )

  r.delete(
    '/api/alert-channels/:channelId',
    {
      ...adminOnly,
      schema: {
        tags,
        summary: 'Delete a channel (workspace admins); rules stop naming it',
        params: channelParams,
        response: responses({ 204: z.null() }),
      },
    },
    async (request, reply) => {
      const { actor } = await reachOf(request)
      known(request.params.channelId, 'Alert channel')
      await deleteChannel(db, actor, request.params.channelId)
      return reply.code(204).send(null)
    },
  )

  r.post(
    '/api/alert-channels/:channelId/test',
    {
      ...adminOnly,
      schema: {
        tags,
        summary: "Send a test message now (workspace admins); answers with the receiver's answer",
        params: channelParams,
        response: responses({ 200: testResponse }),
      },
    },
    async (request) => {
      const { actor } = await reachOf(request)
      known(request.params.channelId, 'Alert channel')
      return testChannel(db, secrets, actor, request.params.channelId, {
        consoleUrl: consoleUrlOf(config),
        mail: config.mail,
        timeoutMs: 10_000,
      })
    },
  )

  r.get(
    '/api/alert-rules',
    {
      ...guarded,
      schema: {
        tags,
        summary: 'Alert rules the caller may manage, by name',
        response: responses({ 200: listEnvelope(ruleResponse) }),
      },
    },
    async (request) => {
      const { reach } = await reachOf(request)
      const rules = (await listRules(db)).filter((rule) => ruleWithin(reach, rule.tenants))
      return { data: rules.map(presentRule), next_cursor: null }
    },
  )

  r.post(
    '/api/alert-rules',
    {
      ...guarded,
      schema: {
        tags,
        summary: 'Create a rule (tenant owners: for tenants they own only)',
        body: createRuleBody,
        response: responses({ 201: ruleResponse }),
      },
    },
    async (request, reply) => {
      const { reach, actor } = await reachOf(request)
      return reply.code(201).send(presentRule(await createRule(db, actor, reach, request.body)))
    },
  )

  r.patch(
    '/api/alert-rules/:ruleId',
    {
      ...guarded,
      schema: {
        tags,
        summary: 'Change a rule',
        params: ruleParams,
        body: updateRuleBody,
        response: responses({ 200: ruleResponse }),
      },
    },
    async (request) => {
      const { reach, actor } = await reachOf(request)
      known(request.params.ruleId, 'Alert rule')
      return presentRule(await updateRule(db, actor, reach, request.params.ruleId, request.body))
    },
  )

  r.delete(
    '/api/alert-rules/:ruleId',
    {
      ...guarded,
      schema: { tags, summary: 'Delete a rule', params: ruleParams, response: responses({ 204: z.null() }) },
    },
    async (request, reply) => {
      const { reach, actor } = await reachOf(request)
      known(request.params.ruleId, 'Alert rule')
      await deleteRule(db, actor, reach, request.params.ruleId)
      return reply.code(204).send(null)
    },
  )

  r.get(
    '/api/alert-deliveries',
    {
      ...guarded,
      schema: {
        tags,
        summary: "The delivery log, newest first (a tenant owner's: their tenants')",
        querystring: deliveriesQuery,
        response: responses({ 200: listEnvelope(deliveryResponse) }),
      },
    },
    async (request) => {
      const { reach } = await reachOf(request)
      const query = request.query
      const rows = await listDeliveries(
        db,
        {
          channelId: query.channel_id,
          ruleId: query.rule_id,
          status: query.status,
          tenantIds: reach.admin ? undefined : [...reach.tenantIds],
        },
        { cursor: decodeCursor(query.cursor), limit: query.limit },
      )
      const page = rows.slice(0, query.limit)
      const last = page.at(-1)
      return {
        data: page.map(presentDelivery),
        next_cursor:
          rows.length > query.limit && last ? encodeCursor({ at: last.createdAt.toISOString(), id: last.id }) : null,
      }
    },
  )
}
