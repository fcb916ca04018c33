import type { z } from 'zod'
import { emailChannel } from './channel-email.ts'
import type { SendResult } from './channel-http.ts'
import { teamsChannel } from './channel-teams.ts'
import { webhookChannel } from './channel-webhook.ts'
import type { AlertMessage } from './message.ts'

export type MailConfig = { smtpUrl: string; from: string }

/** Everything about one kind of channel (ADR 030): its body fields, what is stored encrypted, how it sends. */
export type ChannelKind = {
  kind: 'teams' | 'webhook' | 'email'
  fields: Record<string, z.ZodType>
  /** The secret parts of a body: the target (encrypted), what the API shows instead, the webhook's secret. */
  target(body: Record<string, unknown>): { target: string; masked: string; secret?: string; generatedSecret?: boolean }
  send(context: {
    target: string
    secret: string | null
    message: AlertMessage
    timeoutMs: number
    mail: MailConfig | undefined
  }): Promise<SendResult>
}

export const CHANNEL_KINDS = { teams: teamsChannel, webhook: webhookChannel, email: emailChannel } as const
export type ChannelKindKey = keyof typeof CHANNEL_KINDS
