import type { Database } from '../../db/engine.ts'
import type { AlertChannelRow } from '../../db/schema.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { CHANNEL_KINDS } from './channel-kinds.ts'
import { deleteChannelRow, insertChannel, lockChannel, updateChannelRow } from './repository.ts'
import type { CreateChannelBody, UpdateChannelBody } from './schemas.ts'
import { openChannel, sealChannel } from './secrets.ts'

/** Audit metadata of a channel: never its target or secret. */
const described = (row: AlertChannelRow) => ({ kind: row.kind, name: row.name, target: row.targetMasked })

/** Creates a channel; a webhook's secret is generated when absent and returned this once. */
export async function createChannel(
  db: Database,
  secrets: SecretBox,
  actor: Actor,
  body: CreateChannelBody,
): Promise<{ channel: AlertChannelRow; secret?: string }> {
  const id = uuidv7()
  const sealed = CHANNEL_KINDS[body.kind].target(body)
  return db.transaction(async (tx) => {
    const channel = await insertChannel(tx, {
      id,
      kind: body.kind,
      name: body.name,
      targetMasked: sealed.masked,
      ...sealChannel(secrets, id, sealed.target, sealed.secret),
      createdBy: 'userId' in actor ? (actor.userId ?? null) : null,
    })
    await recordAuditEvent(tx, actor, {
      action: 'alert_channel.created',
      subject: { type: 'alert_channel', id },
      metadata: described(channel),
    })
    return sealed.generatedSecret ? { channel, secret: sealed.secret! } : { channel }
  })
}

/** The fields a kind takes: a PATCH naming another kind's field is a 422 naming it. */
const FIELDS_OF = { teams: ['url'], webhook: ['url', 'secret'], email: ['to'] } as const

export async function updateChannel(
  db: Database,
  secrets: SecretBox,
  actor: Actor,
  channelId: string,
  body: UpdateChannelBody,
): Promise<AlertChannelRow> {
  return db.transaction(async (tx) => {
    const current = await lockChannel(tx, channelId)
    if (!current) throw notFound('Alert channel')
    const allowed: readonly string[] = FIELDS_OF[current.kind]
    const wrong = (['url', 'secret', 'to'] as const).filter((f) => body[f] !== undefined && !allowed.includes(f))
    if (wrong.length > 0)
      throw validationError(wrong.map((field) => ({ field, message: `a ${current.kind} channel has no ${field}` })))
    const changesTarget = body.url !== undefined || body.to !== undefined || body.secret !== undefined
    let sealedValues = {}
    let masked = current.targetMasked
    if (changesTarget) {
      const opened = openChannel(secrets, current)
      const merged = {
        url: body.url ?? (current.kind === 'email' ? undefined : opened.target),
        to: body.to ?? (current.kind === 'email' ? (JSON.parse(opened.target) as string[]) : undefined),
        secret: body.secret ?? opened.secret ?? undefined,
      }
      const sealed = CHANNEL_KINDS[current.kind].target(merged)
      masked = sealed.masked
      sealedValues = sealChannel(
        secrets,
        current.id,
        sealed.target,
        current.kind === 'webhook' ? sealed.secret : undefined,
      )
    }
    const row = await updateChannelRow(tx, channelId, {
      ...(body.name === undefined ? {} : { name: body.name }),
      ...sealedValues,
      targetMasked: masked,
    })
    await recordAuditEvent(tx, actor, {
      action: 'alert_channel.updated',
      subject: { type: 'alert_channel', id: channelId },
      metadata: {
        ...described(row!),
        changed: Object.keys(body).filter((k) => body[k as keyof UpdateChannelBody] !== undefined),
      },
    })
    return row!
  })
}

export async function deleteChannel(db: Database, actor: Actor, channelId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const current = await lockChannel(tx, channelId)
    if (!current) throw notFound('Alert channel')
    await deleteChannelRow(tx, channelId)
    await recordAuditEvent(tx, actor, {
      action: 'alert_channel.deleted',
      subject: { type: 'alert_channel', id: channelId },
      metadata: described(current),
    })
  })
}
