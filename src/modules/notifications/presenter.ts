import { z } from 'zod'
import { RUN_OUTCOMES, type NotificationRow } from '../../db/schema.ts'

export const notificationResponse = z
  .object({
    id: z.string(),
    kind: z.string(),
    title: z.string(),
    body: z.string(),
    run_id: z.string().nullable(),
    outcome: z
      .enum(RUN_OUTCOMES)
      .nullable()
      .describe("The run's outcome: what the console colours the notification by"),
    tenant_id: z.string().nullable(),
    url: z.string(),
    read_at: z.string().nullable(),
    created_at: z.string(),
  })
  .meta({ id: 'Notification' })

export const presentNotification = (n: NotificationRow) => ({
  id: n.id,
  kind: n.kind,
  title: n.title,
  body: n.body,
  run_id: n.runId,
  outcome: n.outcome,
  tenant_id: n.tenantId,
  url: n.url,
  read_at: n.readAt?.toISOString() ?? null,
  created_at: n.createdAt.toISOString(),
})
