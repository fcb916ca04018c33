import { z } from 'zod'
import { cursorQuery } from '../../http/schemas.ts'
import { requiredText } from '../../lib/validation.ts'
import { webhookChannel } from './channel-webhook.ts'
import { teamsChannel } from './channel-teams.ts'
import { emailChannel } from './channel-email.ts'
import { EVENT_KINDS, SEVERITIES } from './events.ts'

const name = requiredText(100)

export const createChannelBody = z.discriminatedUnion(
  'kind',
  [
    z.strictObject({ kind: z.literal('teams'), name, ...teamsChannel.fields }),
    z.strictObject({ kind: z.literal('webhook'), name, ...webhookChannel.fields }),
    z.strictObject({ kind: z.literal('email'), name, ...emailChannel.fields }),
  ],
  { error: 'must be teams, webhook or email' },
)

/** A PATCH renames, or replaces the target (and a webhook's secret) as a whole: the stored one is never shown to merge with. */
export const updateChannelBody = z
  .strictObject({
    name: name.optional(),
    url: teamsChannel.fields.url!.optional(),
    secret: webhookChannel.fields.secret!,
    to: emailChannel.fields.to!.optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { error: 'name at least one field to change' })

export const channelParams = z.object({ channelId: z.string() })
export const ruleParams = z.object({ ruleId: z.string() })

export const channelResponse = z
  .object({
    id: z.string(),
    kind: z.enum(['teams', 'webhook', 'email']),
    name: z.string(),
    target: z.string().describe('Masked: the host of a URL, the first letter of each address'),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'AlertChannel' })

export const createdChannelResponse = channelResponse
  .extend({
    secret: z
      .string()
      .optional()
      .describe("A webhook's signing secret, generated when none was given: shown in this answer only"),
  })
  .meta({ id: 'CreatedAlertChannel' })

const ids = (what: string) =>
  z.array(z.guid({ error: `must be ${what} ids` }), { error: `must be a list of ${what} ids` })
const actorList = z.array(requiredText(320)).max(100)

const ruleFields = {
  name,
  events: z
    .array(z.enum(EVENT_KINDS, { error: `must be one of ${EVENT_KINDS.join(', ')}` }))
    .min(1, 'name at least one event kind'),
  min_severity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }).optional(),
  planned: z.enum(['include', 'exclude'], { error: 'must be include or exclude' }).default('include'),
  actors: z.strictObject({ include: actorList.optional(), exclude: actorList.optional() }).optional(),
  tenants: z.union(
    [
      z.strictObject({ all: z.literal(true) }),
      z.strictObject({ tenant_ids: ids('tenant').min(1).max(2000) }),
      z.strictObject({ tenant_group_ids: ids('tenant group').min(1).max(100) }),
    ],
    { error: 'must be {all: true}, {tenant_ids: […]} or {tenant_group_ids: […]}' },
  ),
  channel_ids: ids('channel').min(1, 'name at least one channel').max(20),
  window_seconds: z.number({ error: 'must be a number of seconds' }).int().min(0).max(86_400).default(300),
}

export const createRuleBody = z.strictObject(ruleFields)
export const updateRuleBody = z
  .strictObject({
    name: name.optional(),
    events: ruleFields.events.optional(),
    min_severity: ruleFields.min_severity.nullable(),
    planned: z.enum(['include', 'exclude'], { error: 'must be include or exclude' }).optional(),
    actors: ruleFields.actors.nullable(),
    tenants: ruleFields.tenants.optional(),
    channel_ids: ruleFields.channel_ids.optional(),
    window_seconds: z.number({ error: 'must be a number of seconds' }).int().min(0).max(86_400).optional(),
  })
  .refine((v) => Object.values(v).some((x) => x !== undefined), { error: 'name at least one field to change' })

export const ruleResponse = z
  .object({
    id: z.string(),
    name: z.string(),
    events: z.array(z.string()),
    min_severity: z.string().nullable(),
    planned: z.enum(['include', 'exclude']),
    actors: z.object({ include: z.array(z.string()).optional(), exclude: z.array(z.string()).optional() }).nullable(),
    tenants: z.union([
      z.object({ all: z.literal(true) }),
      z.object({ tenant_ids: z.array(z.string()) }),
      z.object({ tenant_group_ids: z.array(z.string()) }),
    ]),
    channel_ids: z.array(z.string()),
    window_seconds: z.number(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'AlertRule' })

export const deliveriesQuery = cursorQuery.extend({
  channel_id: z.guid({ error: 'must be a channel id' }).optional(),
  rule_id: z.guid({ error: 'must be a rule id' }).optional(),
  status: z
    .enum(['pending', 'sent', 'retrying', 'failed'], { error: 'must be pending, sent, retrying or failed' })
    .optional(),
})

export const deliveryResponse = z
  .object({
    id: z.string().describe('Also the Idempotency-Key of every attempt'),
    channel_id: z.string(),
    rule_id: z.string(),
    tenant_id: z.string(),
    message_id: z.string(),
    status: z.enum(['pending', 'sent', 'retrying', 'failed']),
    attempts: z.number(),
    last_response: z.string().nullable().describe("The receiver's last answer (status and the start of its body)"),
    next_attempt_at: z.string().nullable(),
    sent_at: z.string().nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'AlertDelivery' })

export const testResponse = z
  .object({
    status: z.enum(['sent', 'failed']),
    response: z.string().describe("The receiver's answer"),
  })
  .meta({ id: 'AlertChannelTest' })

export type CreateChannelBody = z.output<typeof createChannelBody>
export type UpdateChannelBody = z.output<typeof updateChannelBody>
export type CreateRuleBody = z.output<typeof createRuleBody>
export type UpdateRuleBody = z.output<typeof updateRuleBody>
