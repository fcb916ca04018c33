import type { z } from 'zod'
import type { AlertChannelRow, AlertDeliveryRow, AlertRuleRow } from '../../db/schema.ts'
import type { channelResponse, deliveryResponse, ruleResponse } from './schemas.ts'

/** Never the target or the secret: the masked target only (ADR 030). */
export const presentChannel = (row: AlertChannelRow): z.output<typeof channelResponse> => ({
  id: row.id,
  kind: row.kind,
  name: row.name,
  target: row.targetMasked,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
})

export const presentRule = (row: AlertRuleRow): z.output<typeof ruleResponse> => ({
  id: row.id,
  name: row.name,
  events: row.events,
  min_severity: row.minSeverity,
  planned: row.planned,
  actors: row.actors ?? null,
  tenants: row.tenants,
  channel_ids: row.channelIds,
  window_seconds: row.windowSeconds,
  created_at: row.createdAt.toISOString(),
  updated_at: row.updatedAt.toISOString(),
})

export const presentDelivery = (row: AlertDeliveryRow): z.output<typeof deliveryResponse> => ({
  id: row.id,
  channel_id: row.channelId,
  rule_id: row.ruleId,
  tenant_id: row.tenantId,
  message_id: row.messageId,
  status: row.status,
  attempts: row.attempts,
  last_response: row.lastResponse,
  next_attempt_at: row.status === 'pending' || row.status === 'retrying' ? row.nextAttemptAt.toISOString() : null,
  sent_at: row.sentAt?.toISOString() ?? null,
  created_at: row.createdAt.toISOString(),
})
