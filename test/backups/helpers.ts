import { eq } from 'drizzle-orm'
import { backupSetItems } from '../../src/db/schema.ts'
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
  const response = await ctx.request({ method: 'POST', url: `/api/tenants/${tenantId}/backups`, token, headers: { origin: ORIGIN }, ...(body ? { payload: body } : {}) })
  if (response.statusCode !== 202) throw new Error(`backup not started: ${response.statusCode} ${response.body}`)
  return JSON.parse(response.body) as { run: { id: string }; backup: BackupBody; deduplicated: boolean }
}

export async function backupAndWait(ctx: TestContext, tenantId: string, token: string, body?: Record<string, unknown>) {
  const started = await startBackup(ctx, tenantId, token, body)
  const run = await waitForCompletion(ctx, started.run.id)
  const response = await ctx.request({ method: 'GET', url: `/api/tenants/${tenantId}/backups/${started.backup.id}`, token })
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
  const pairs = rows.map((r): [string, string] => [`${r.policyType}/${r.externalId}`, `${r.displayName} ${r.contentHash}`])
  return Object.fromEntries(pairs.sort(([a], [b]) => a.localeCompare(b)))
}
