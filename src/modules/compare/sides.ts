import { sql } from 'drizzle-orm'
import { z } from 'zod'
import type { Executor } from '../../db/engine.ts'
import { validationError } from '../../lib/errors.ts'
import { UUID_PATTERN } from '../../lib/ids.ts'
import { findBackup } from '../backups/repository.ts'
import type { Content } from '../inventory/diff.ts'
import { toTextArray } from '../inventory/store.ts'
import { findTenant } from '../tenants/repository.ts'

/**
 * What one side of a comparison (or a documentation export) reads: a tenant now, a tenant at a point
 * in time, or a backup set. A baseline is the next kind: it is accepted by the input schema and
 * answered with a 422 until the baselines module exists, then it becomes one more entry of
 * `SOURCES` (keys + contents), nothing else changes.
 */
export const sideInput = z
  .strictObject({
    tenant_id: z.uuid({ error: 'must be a tenant id (a UUID)' }).optional(),
    at: z.iso.datetime({ offset: true, error: 'must be an ISO 8601 date and time' }).optional(),
    backup_id: z.uuid({ error: 'must be a backup set id (a UUID)' }).optional(),
    baseline_id: z.uuid({ error: 'must be a baseline id (a UUID)' }).optional(),
  })
  .superRefine((side, ctx) => {
    const named = [side.tenant_id, side.backup_id, side.baseline_id].filter((v) => v !== undefined).length
    if (named !== 1)
      ctx.addIssue({ code: 'custom', message: 'name exactly one of tenant_id, backup_id or baseline_id', path: [] })
    if (side.at !== undefined && side.tenant_id === undefined)
      ctx.addIssue({ code: 'custom', message: 'at goes with tenant_id', path: ['at'] })
  })
  .meta({
    id: 'ComparisonSide',
    description:
      '`{tenant_id}` (now), `{tenant_id, at}` (as it was at that time), `{backup_id}` or `{baseline_id}` (once baselines exist)',
  })
export type SideInput = z.output<typeof sideInput>

/** A side resolved to what it reads. */
export type Side =
  | { kind: 'tenant'; tenantId: string; at: null; label: string }
  | { kind: 'tenant_at'; tenantId: string; at: Date; label: string }
  | { kind: 'backup'; tenantId: string; backupId: string; label: string }

/** One object of a side: what matching needs, without its content. */
export type SideKey = {
  policyType: string
  odataType: string | null
  name: string
  externalId: string
  /** The inventory item (tenant sides), for links. */
  itemId: string | null
  /** Where its content is: the item id (now) or the content hash (history, backups). */
  ref: string
}

type Source = {
  keys(db: Executor, side: Side): Promise<SideKey[]>
  contents(db: Executor, side: Side, refs: readonly string[]): Promise<Map<string, Content>>
}

// Entra groups are not compared (each query says so): they are what assignments point at, mapped by name.

type KeyRow = {
  policy_type: string
  odata_type: string | null
  name: string
  external_id: string
  item_id: string | null
  ref: string
}
const keyOf = (r: KeyRow): SideKey => ({
  policyType: r.policy_type,
  odataType: r.odata_type,
  name: r.name,
  externalId: r.external_id,
  itemId: r.item_id,
  ref: r.ref,
})

async function contentsByHash(db: Executor, tenantId: string, hashes: readonly string[]) {
  if (hashes.length === 0) return new Map<string, Content>()
  const { rows } = await db.execute<{
    ref: string
    payload: Record<string, unknown>
    assignments: Content['assignments']
  }>(
    sql`SELECT content_hash AS ref, payload, assignments FROM inventory_contents
        WHERE tenant_id = ${tenantId} AND content_hash = ANY(${toTextArray(hashes)}::text[])`,
  )
  return new Map(rows.map((r) => [r.ref, { payload: r.payload, assignments: r.assignments ?? [] }]))
}

const SOURCES: Record<Side['kind'], Source> = {
  tenant: {
    async keys(db, side) {
      const { rows } = await db.execute<KeyRow>(sql`
        SELECT policy_type, payload->>'@odata.type' AS odata_type, display_name AS name, external_id, id AS item_id, id::text AS ref
        FROM inventory_items WHERE tenant_id = ${side.tenantId} AND removed_at IS NULL AND policy_type <> 'group'`)
      return rows.map(keyOf)
    },
    async contents(db, side, refs) {
      if (refs.length === 0) return new Map()
      const { rows } = await db.execute<{
        ref: string
        payload: Record<string, unknown>
        assignments: Content['assignments']
      }>(sql`
        SELECT id::text AS ref, payload, assignments FROM inventory_items
        WHERE tenant_id = ${side.tenantId} AND id = ANY(${toTextArray(refs)}::uuid[])`)
      return new Map(rows.map((r) => [r.ref, { payload: r.payload, assignments: r.assignments ?? [] }]))
    },
  },
  // Each item as its newest version and newest change entry at that time said: removed then → absent.
  tenant_at: {
    async keys(db, side) {
      const at = (side as Extract<Side, { kind: 'tenant_at' }>).at.toISOString()
      const { rows } = await db.execute<KeyRow>(sql`
        WITH v AS (
          SELECT DISTINCT ON (item_id) item_id, content_hash FROM inventory_versions
          WHERE tenant_id = ${side.tenantId} AND captured_at <= ${at}::timestamptz
          ORDER BY item_id, number DESC),
        ch AS (
          SELECT DISTINCT ON (item_id) item_id, kind, display_name FROM inventory_changes
          WHERE tenant_id = ${side.tenantId} AND detected_at <= ${at}::timestamptz
          ORDER BY item_id, detected_at DESC, id DESC)
        SELECT i.policy_type, c.payload->>'@odata.type' AS odata_type, coalesce(ch.display_name, i.display_name) AS name,
               i.external_id, i.id AS item_id, v.content_hash AS ref
        FROM v JOIN inventory_items i ON i.id = v.item_id
        JOIN inventory_contents c ON c.tenant_id = ${side.tenantId} AND c.content_hash = v.content_hash
        LEFT JOIN ch ON ch.item_id = v.item_id
        WHERE (ch.kind IS NULL OR ch.kind <> 'removed') AND i.policy_type <> 'group'`)
      return rows.map(keyOf)
    },
    contents: (db, side, refs) => contentsByHash(db, side.tenantId, refs),
  },
  backup: {
    async keys(db, side) {
      const backupId = (side as Extract<Side, { kind: 'backup' }>).backupId
      const { rows } = await db.execute<KeyRow>(sql`
        SELECT b.policy_type, c.payload->>'@odata.type' AS odata_type, b.display_name AS name, b.external_id,
               NULL::uuid AS item_id, b.content_hash AS ref
        FROM backup_set_items b
        JOIN inventory_contents c ON c.tenant_id = ${side.tenantId} AND c.content_hash = b.content_hash
        WHERE b.backup_id = ${backupId} AND b.policy_type <> 'group'`)
      return rows.map(keyOf)
    },
    contents: (db, side, refs) => contentsByHash(db, side.tenantId, refs),
  },
}

export const sourceOf = (side: Side): Source => SOURCES[side.kind]

/**
 * Resolves a side to its tenant and label; what cannot be found is a 404 through `notFound`
 * (the caller decides: a tenant the caller may not view reads the same as one that does not exist).
 * `field` names the side in a 422 (`left`, `right`, `source`).
 */
export async function resolveSide(
  db: Executor,
  input: SideInput,
  field: string,
  notFound: (what: string) => Error,
): Promise<Side> {
  if (input.baseline_id !== undefined)
    throw validationError([
      { field: `${field}.baseline_id`, message: 'baselines are not available yet: compare a tenant or a backup set' },
    ])
  if (input.backup_id !== undefined) {
    const [row] = await db
      .execute<{ tenant_id: string }>(sql`SELECT tenant_id FROM backup_sets WHERE id = ${input.backup_id}`)
      .then((r) => r.rows)
    if (!row) throw notFound('Backup set')
    const backup = await findBackup(db, row.tenant_id, input.backup_id)
    const tenant = await findTenant(db, row.tenant_id)
    if (!backup || !tenant) throw notFound('Backup set')
    if (backup.set.status === 'running')
      throw validationError([{ field: `${field}.backup_id`, message: 'the backup set is still being made' }])
    return {
      kind: 'backup',
      tenantId: row.tenant_id,
      backupId: input.backup_id,
      label: `${tenant.name} · backup "${backup.set.name}"`,
    }
  }
  const tenantId = input.tenant_id!
  const tenant = UUID_PATTERN.test(tenantId) ? await findTenant(db, tenantId) : undefined
  if (!tenant) throw notFound('Tenant')
  if (input.at === undefined) return { kind: 'tenant', tenantId, at: null, label: `${tenant.name} · now` }
  const at = new Date(input.at)
  if (at.getTime() > Date.now()) throw validationError([{ field: `${field}.at`, message: 'must not be in the future' }])
  return { kind: 'tenant_at', tenantId, at, label: `${tenant.name} · ${at.toISOString()}` }
}

/** The side as stored and presented: the input's shape plus its resolved tenant and label. */
export function presentSide(side: Side): Record<string, unknown> {
  const base = { tenant_id: side.tenantId, label: side.label }
  if (side.kind === 'backup') return { ...base, backup_id: side.backupId }
  if (side.kind === 'tenant_at') return { ...base, at: side.at.toISOString() }
  return base
}

/** A stored side back to a Side (no database read: the comparison keeps what it resolved). */
export function storedSide(stored: Record<string, unknown>): Side {
  const tenantId = String(stored.tenant_id)
  const label = String(stored.label)
  if (typeof stored.backup_id === 'string') return { kind: 'backup', tenantId, backupId: stored.backup_id, label }
  if (typeof stored.at === 'string') return { kind: 'tenant_at', tenantId, at: new Date(stored.at), label }
  return { kind: 'tenant', tenantId, at: null, label }
}

/** About how many objects a side holds: whether a comparison is answered inline or by a run. */
export async function sideSize(db: Executor, side: Side): Promise<number> {
  const { rows } =
    side.kind === 'backup'
      ? await db.execute<{ n: number }>(sql`SELECT item_count AS n FROM backup_sets WHERE id = ${side.backupId}`)
      : await db.execute<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM inventory_items WHERE tenant_id = ${side.tenantId} AND policy_type <> 'group'`,
        )
  return Number(rows[0]?.n ?? 0)
}
