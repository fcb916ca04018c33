import { sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import type { BaselineMappingEntry, BaselineRow } from '../../db/schema.ts'
import { validationError } from '../../lib/errors.ts'
import { type Actor, recordAuditEvent } from '../audit/record-audit-event.ts'
import { proposeMapping } from '../compare/compute.ts'
import { toTextArray } from '../inventory/store.ts'
import { referencesOf } from '../restore/content.ts'
import { bind } from './evaluate.ts'
import type { assignmentResponse } from './presenter.ts'
import { contentsOf, currentEntries, findAssignment, upsertAssignment } from './repository.ts'
import type { AssignmentBody } from './schemas.ts'
import type { z } from 'zod'

type Kind = BaselineMappingEntry['kind']
const KINDS: readonly Kind[] = ['group', 'assignment_filter', 'scope_tag']

/**
 * A baseline's assignment to a tenant as the console edits it: stored values, and for what is not
 * stored yet the proposals (mapping by name, bindings by type, `@odata.type` and name).
 */
export async function readAssignment(
  db: Executor,
  tenantId: string,
  baseline: BaselineRow,
): Promise<z.infer<typeof assignmentResponse>> {
  const stored = await findAssignment(db, tenantId, baseline.id)
  const entries = await currentEntries(db, baseline.id)
  const storedBindings = stored?.bindings ?? {}
  const { bindings, items } = await bind(db, tenantId, entries, storedBindings)
  const contents = await contentsOf(
    db,
    entries.map((e) => e.contentHash),
  )
  const refs = new Map<string, { kind: Kind; id: string }>()
  for (const c of contents.values())
    for (const r of referencesOf(c)) if ((KINDS as string[]).includes(r.kind)) refs.set(`${r.kind}:${r.id}`, r as never)
  const proposed = await proposeMapping(db, baseline.homeTenantId, tenantId)
  const explicit = new Map((stored?.mapping ?? []).map((m) => [`${m.kind}:${m.source_id}`, m]))
  for (const r of refs.values()) proposed.map(r.kind, r.id)
  const mapping = proposed.entries().map((m) => {
    const own = explicit.get(`${m.kind}:${m.left_id}`)
    return {
      kind: m.kind,
      source_id: m.left_id,
      source_name: m.left_name,
      target_id: own ? own.target_id : m.right_id,
      proposed_by: own
        ? ('assignment' as const)
        : m.right_id === null
          ? null
          : baseline.homeTenantId === tenantId
            ? ('same' as const)
            : ('name' as const),
    }
  })
  return {
    tenant_id: tenantId,
    baseline_id: baseline.id,
    assigned: stored !== undefined,
    enabled: stored?.enabled ?? false,
    mapping,
    overrides: (stored?.overrides ?? []).map((o) => ({ entry_id: o.entry_id, path: o.path, value: o.value })),
    bindings: entries.map((e) => {
      const itemId = bindings[e.id] ?? null
      return {
        entry_id: e.id,
        item_id: itemId,
        display_name: itemId ? (items.get(itemId)?.display_name ?? null) : null,
        proposed: itemId !== null && storedBindings[e.id] !== itemId,
      }
    }),
    evaluated_version: stored?.evaluatedVersion ?? null,
    evaluated_at: stored?.evaluatedAt?.toISOString() ?? null,
  }
}

/** Assigns the baseline to the tenant (or changes the assignment): fields left out keep their value. */
export async function saveAssignment(
  db: Database,
  actor: Actor,
  tenantId: string,
  baseline: BaselineRow,
  body: AssignmentBody,
) {
  const current = await findAssignment(db, tenantId, baseline.id)
  const entryIds = new Set((await currentEntries(db, baseline.id)).map((e) => e.id))
  const issues: { field: string; message: string }[] = []
  body.overrides?.forEach((o, i) => {
    if (!entryIds.has(o.entry_id))
      issues.push({ field: `overrides.${i}.entry_id`, message: 'is not an entry of the baseline' })
  })
  body.bindings?.forEach((b, i) => {
    if (!entryIds.has(b.entry_id))
      issues.push({ field: `bindings.${i}.entry_id`, message: 'is not an entry of the baseline' })
  })
  const itemIds = (body.bindings ?? []).map((b) => b.item_id).filter((id): id is string => id !== null)
  if (itemIds.length > 0) {
    const { rows } = await db.execute<{ id: string }>(
      sql`SELECT id FROM inventory_items WHERE tenant_id = ${tenantId} AND id = ANY(${toTextArray(itemIds)}::uuid[])`,
    )
    const known = new Set(rows.map((r) => r.id))
    body.bindings!.forEach((b, i) => {
      if (b.item_id !== null && !known.has(b.item_id))
        issues.push({ field: `bindings.${i}.item_id`, message: "is not an object of this tenant's inventory" })
    })
  }
  if (issues.length > 0) throw validationError(issues)
  const bindings = { ...(current?.bindings ?? {}) }
  for (const b of body.bindings ?? []) bindings[b.entry_id] = b.item_id
  const mapping: BaselineMappingEntry[] = body.mapping
    ? body.mapping.map((m) => ({ kind: m.kind, source_id: m.source_id, source_name: null, target_id: m.target_id }))
    : (current?.mapping ?? [])
  await db.transaction(async (tx) => {
    await upsertAssignment(tx, {
      tenantId,
      baselineId: baseline.id,
      enabled: body.enabled ?? current?.enabled ?? true,
      mapping,
      overrides: body.overrides ?? current?.overrides ?? [],
      bindings,
    })
    await recordAuditEvent(tx, actor, {
      tenantId,
      action: current ? 'baseline.assignment_updated' : 'baseline.assigned',
      subject: { type: 'baseline', id: baseline.id },
      metadata: {
        enabled: body.enabled ?? current?.enabled ?? true,
        ...(body.mapping ? { mapping: body.mapping.length } : {}),
        ...(body.overrides ? { overrides: body.overrides.length } : {}),
        ...(body.bindings ? { bindings: body.bindings.length } : {}),
      },
    })
  })
}
