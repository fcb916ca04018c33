import { and, eq } from 'drizzle-orm'
import { backupSetItems, backupSets, inventoryContents } from '../../src/db/schema.ts'
import type { EmulatorServer } from '../../src/emulator/server.ts'
import { findPolicyType, GROUP_TYPE } from '../../src/graph/policy-types.ts'
import { normaliseRead } from '../../src/modules/inventory/normalise.ts'
import { control } from '../graph/emulator-helpers.ts'
import type { TestContext } from '../harness.ts'
import { ORIGIN } from '../harness.ts'
import { waitForCompletion } from '../inventory/helpers.ts'

export type BackupBody = {
  id: string
  name: string
  status: string
  protected: boolean
  labels: string[]
  origin: string
  item_count: number
  counts_by_type: Record<string, number>
  missing: { type: string; id: string; code: string }[]
}

export async function startBackup(ctx: TestContext, tenantId: string, token: string, body?: Record<string, unknown>) {
  const response = await ctx.request({
    method: 'POST',
    url: `/api/tenants/${tenantId}/backups`,
    token,
    headers: { origin: ORIGIN },
    ...(body ? { payload: body } : {}),
  })
  if (response.statusCode !== 202) throw new Error(`backup not started: ${response.statusCode} ${response.body}`)
  return JSON.parse(response.body) as { run: { id: string }; backup: BackupBody; deduplicated: boolean }
}

export async function backupAndWait(ctx: TestContext, tenantId: string, token: string, body?: Record<string, unknown>) {
  const started = await startBackup(ctx, tenantId, token, body)
  const run = await waitForCompletion(ctx, started.run.id)
  const response = await ctx.request({
    method: 'GET',
    url: `/api/tenants/${tenantId}/backups/${started.backup.id}`,
    token,
  })
  return { run, backup: JSON.parse(response.body) as BackupBody }
}

/** A set's objects as `type → sorted "id name"` (the shape the ground truth is compared in). */
export async function setByType(ctx: TestContext, backupId: string) {
  const rows = await ctx.db.select().from(backupSetItems).where(eq(backupSetItems.backupId, backupId))
  const out: Record<string, string[]> = {}
  for (const r of rows) (out[r.policyType] ??= []).push(`${r.externalId} ${r.displayName}`)
  for (const list of Object.values(out)) list.sort()
  return out
}

/** A set's objects as `type/id → hash`. */
export async function setHashes(ctx: TestContext, backupId: string): Promise<Record<string, string>> {
  const rows = await ctx.db.select().from(backupSetItems).where(eq(backupSetItems.backupId, backupId))
  const pairs = rows.map((r): [string, string] => [
    `${r.policyType}/${r.externalId}`,
    `${r.displayName} ${r.contentHash}`,
  ])
  return Object.fromEntries(pairs.sort(([a], [b]) => a.localeCompare(b)))
}

type Content = { payload: Record<string, unknown>; assignments: Record<string, unknown>[] }

/**
 * The emulator's ground truth with content (`?include=content`: each object as a full Graph read
 * returns it, with its details and assignments; groups with the catalog's `$select`), normalised as the product normalises a read
 * (`normaliseRead`: volatile fields dropped, keys and arrays sorted, setting definitions apart),
 * as `type/id → {payload, assignments}`.
 */
export async function truthContents(emulator: EmulatorServer, entraTenantId: string): Promise<Map<string, Content>> {
  const { status, body } = await control<{ objects: { type: string; id: string; content: Record<string, unknown> }[] }>(
    emulator,
    'GET',
    `/tenants/${entraTenantId}/inventory?include=content`,
  )
  if (status !== 200) throw new Error(`ground truth with content: ${status}`)
  const out = new Map<string, Content>()
  for (const o of body.objects) {
    const entry = o.type === GROUP_TYPE.key ? GROUP_TYPE : findPolicyType(o.type)
    if (!entry) throw new Error(`unknown type in the ground truth: ${o.type}`)
    // Entra groups are read with the catalog's $select (read-plan.ts groupReadUrl): the same fields here.
    const content =
      entry === GROUP_TYPE && entry.select
        ? Object.fromEntries(Object.entries(o.content).filter(([k]) => entry.select!.includes(k)))
        : o.content
    const { assignments, ...rest } = content
    const details = Object.fromEntries(entry.details.map((d) => [d.name, rest[d.name]]))
    const object = Object.fromEntries(Object.entries(rest).filter(([k]) => !entry.details.some((d) => d.name === k)))
    const item = normaliseRead(entry, {
      item: object as { id: string },
      assignments: entry === GROUP_TYPE ? null : ((assignments ?? []) as Record<string, unknown>[]),
      details,
    })
    out.set(`${o.type}/${o.id}`, { payload: item.payload, assignments: item.assignments })
  }
  return out
}

/** A set's pinned content, as `type/id → {payload, assignments}`. */
export async function setContents(ctx: TestContext, backupId: string): Promise<Map<string, Content>> {
  const [set] = await ctx.db.select().from(backupSets).where(eq(backupSets.id, backupId))
  const rows = await ctx.db
    .select({
      type: backupSetItems.policyType,
      id: backupSetItems.externalId,
      payload: inventoryContents.payload,
      assignments: inventoryContents.assignments,
    })
    .from(backupSetItems)
    .innerJoin(
      inventoryContents,
      and(eq(inventoryContents.tenantId, set!.tenantId), eq(inventoryContents.contentHash, backupSetItems.contentHash)),
    )
    .where(eq(backupSetItems.backupId, backupId))
  return new Map(rows.map((r) => [`${r.type}/${r.id}`, { payload: r.payload, assignments: r.assignments }]))
}
