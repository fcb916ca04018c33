import { and, eq, inArray, isNull, sql } from 'drizzle-orm'
import type { Database, Executor } from '../../db/engine.ts'
import {
  inventoryItems,
  restoreMappings,
  type MappingKind,
  type PlanMapping,
  type RestoreAction,
} from '../../db/schema.ts'
import { findPolicyType } from '../../graph/policy-types.ts'
import {
  detailsNotUpdated,
  maskedSecrets,
  notWritableReason,
  SERVER_SET_PROPERTIES,
  type ObjectContent,
} from '../../graph/writes/strategies.ts'
import { uuidv7 } from '../../lib/ids.ts'
import { diffContents, settingDefinitionIds, type Change } from '../inventory/diff.ts'
import { namesOf } from '../inventory/item-diff.ts'
import { orphanedGroupIds } from '../inventory/store.ts'
import { canonicalJson } from '../../lib/canonical.ts'
import { targetSyncedAt } from './repository.ts'
import { comparable, journalKey, KIND_TYPES, mapContent, orderOf, TYPE_KINDS, type Resolve } from './content.ts'

/**
 * Building a restore plan (issue 15): every object of a backup set (or the picked ones) against
 * the target tenant's current inventory. Same tenant: matched by Graph id. Another tenant:
 * matched by type and display name, and every group, assignment filter, scope tag and
 * notification template the objects refer to is mapped — a remembered mapping for the tenant
 * pair first, else the target's object of the same name, else the object this plan restores,
 * else nothing (an unmapped group's assignment is left out, with a warning).
 */

type Body = Record<string, unknown>

export type PlanSelection = { policy_type: string; external_id: string }[] | null

export type SourceObject = {
  policyType: string
  externalId: string
  displayName: string
  contentHash: string
  payload: Body
  assignments: Body[]
}
/** `odataType`: the object's `@odata.type` (null where the type has none): across tenants, part of its identity. */
type TargetObject = {
  policyType: string
  externalId: string
  displayName: string
  contentHash: string
  odataType: string | null
}

export type PlannedItem = {
  id: string
  position: number
  policyType: string
  sourceExternalId: string
  displayName: string
  contentHash: string
  action: RestoreAction
  targetExternalId: string | null
  reason: string | null
  warnings: string[]
  excluded: boolean
  changes: Change[] | null
}

export type PlanMappingEntry = PlanMapping & {
  target_name: string | null
  proposed_by: 'remembered' | 'name' | 'same' | 'restore' | null
  /**
   * Same tenant: the group or filter no longer exists there (the sync found the group deleted, or
   * the filter is gone from the inventory), so it stays unmapped and its assignment is left out
   * with a warning: Graph refuses an assignment to a group or filter the tenant does not have.
   */
  gone?: true
}

/** Which setting definitions the target no longer offers (by Graph); `null` when it cannot tell. */
export type DefinitionCheck = (ids: readonly string[]) => Promise<ReadonlySet<string> | null>

export type BuildInput = {
  targetTenantId: string
  sourceTenantId: string
  backupId: string
  selection: PlanSelection
  /** Objects the reviewer left out (by `type\nsource id`), kept across a refresh. */
  excluded?: ReadonlySet<string>
}

export type BuiltPlan = {
  items: PlannedItem[]
  mapping: PlanMappingEntry[]
  targetSyncedAt: Date | null
  definitionsChecked: boolean
}

const keyOf = (type: string, id: string) => `${type}\n${id}`
/** Placeholder for an object this plan creates: its id is known once the run created it. */
export const RESTORED_PREFIX = 'restore:'

/** The backup's objects with their content (the picked ones only when `selection` is set). */
export async function backupObjects(
  db: Executor,
  sourceTenantId: string,
  backupId: string,
  selection: PlanSelection,
): Promise<SourceObject[]> {
  const picked =
    selection === null
      ? sql``
      : sql`AND (i.policy_type, i.external_id) IN (SELECT s.policy_type, s.external_id FROM jsonb_to_recordset(${JSON.stringify(selection)}::jsonb) AS s(policy_type text, external_id text))`
  const { rows } = await db.execute<{
    policy_type: string
    external_id: string
    display_name: string
    content_hash: string
    payload: Body
    assignments: Body[]
  }>(sql`
    SELECT i.policy_type, i.external_id, i.display_name, i.content_hash, c.payload, c.assignments
    FROM backup_set_items i JOIN inventory_contents c ON c.tenant_id = ${sourceTenantId} AND c.content_hash = i.content_hash
    WHERE i.backup_id = ${backupId} ${picked}
    ORDER BY i.policy_type, i.display_name, i.external_id`)
  return rows.map((r) => ({
    policyType: r.policy_type,
    externalId: r.external_id,
    displayName: r.display_name,
    contentHash: r.content_hash,
    payload: r.payload,
    assignments: r.assignments,
  }))
}

export async function buildPlan(
  db: Database,
  input: BuildInput,
  checkDefinitions: DefinitionCheck,
): Promise<BuiltPlan> {
  const sameTenant = input.sourceTenantId === input.targetTenantId
  const [objects, targets, sourceNames, remembered, syncedAt, copies] = await Promise.all([
    backupObjects(db, input.sourceTenantId, input.backupId, input.selection),
    db
      .select({
        policyType: inventoryItems.policyType,
        externalId: inventoryItems.externalId,
        displayName: inventoryItems.displayName,
        contentHash: inventoryItems.contentHash,
        // Only another tenant's objects match by type (the same tenant's by id): reading each payload costs.
        odataType: sameTenant
          ? sql<string | null>`null`
          : sql<string | null>`${inventoryItems.payload} ->> '@odata.type'`,
      })
      .from(inventoryItems)
      .where(and(eq(inventoryItems.tenantId, input.targetTenantId), isNull(inventoryItems.removedAt))),
    db
      .select({
        policyType: inventoryItems.policyType,
        externalId: inventoryItems.externalId,
        displayName: inventoryItems.displayName,
      })
      .from(inventoryItems)
      .where(
        and(
          eq(inventoryItems.tenantId, input.sourceTenantId),
          inArray(inventoryItems.policyType, Object.values(KIND_TYPES)),
        ),
      ),
    sameTenant
      ? []
      : db
          .select()
          .from(restoreMappings)
          .where(
            and(
              eq(restoreMappings.sourceTenantId, input.sourceTenantId),
              eq(restoreMappings.targetTenantId, input.targetTenantId),
            ),
          ),
    targetSyncedAt(db, input.targetTenantId),
    restoredCopies(db, input.sourceTenantId, input.targetTenantId),
  ])

  // Targets: by id (same tenant) or by name (another tenant).
  const targetById = new Map<string, TargetObject>()
  const targetsByName = new Map<string, TargetObject[]>()
  for (const t of targets) {
    targetById.set(keyOf(t.policyType, t.externalId), t)
    const k = keyOf(t.policyType, t.displayName)
    const list = targetsByName.get(k)
    if (list) list.push(t)
    else targetsByName.set(k, [t])
  }
  const planned = objects.filter((o) => o.policyType !== 'group')
  const matches = new Map<SourceObject, { target: TargetObject | null; ambiguous: boolean; otherType?: TargetObject }>()
  const used = new Set<TargetObject>()
  for (const o of planned) {
    // What an earlier restore created from this very object is the object to compare with.
    const copy = copies.get(keyOf(o.policyType, o.externalId))
    const restored = copy ? targetById.get(keyOf(o.policyType, copy)) : undefined
    if (sameTenant || restored) {
      const target = targetById.get(keyOf(o.policyType, o.externalId)) ?? restored ?? null
      if (target) used.add(target)
      matches.set(o, { target, ambiguous: false })
      continue
    }
    // Across tenants an object is the same object by name and `@odata.type` (a macOS and a Windows
    // policy of one name are two objects: Graph refuses to change an object's type).
    const named = (targetsByName.get(keyOf(o.policyType, o.displayName)) ?? []).filter((t) => !used.has(t))
    const odataType = typeof o.payload['@odata.type'] === 'string' ? o.payload['@odata.type'] : null
    const candidates = named.filter((t) => t.odataType === odataType)
    const target = candidates[0] ?? null
    if (target) used.add(target)
    matches.set(o, { target, ambiguous: candidates.length > 1, otherType: target ? undefined : named[0] })
  }

  // Names of the source's groups and foundations: the backup's own copies first, then the source inventory.
  const names = new Map<string, string>()
  for (const n of sourceNames) names.set(keyOf(n.policyType, n.externalId), n.displayName)
  for (const o of objects) if (TYPE_KINDS[o.policyType]) names.set(keyOf(o.policyType, o.externalId), o.displayName)
  const nameOf = (kind: MappingKind, id: string) => names.get(keyOf(KIND_TYPES[kind], id)) ?? id
  const targetNames = new Map(
    targets.filter((t) => TYPE_KINDS[t.policyType]).map((t) => [keyOf(t.policyType, t.externalId), t.displayName]),
  )

  // Objects of mapping kinds this plan restores (created, or matched in the target).
  const plannedBy = new Map(
    planned.filter((o) => TYPE_KINDS[o.policyType]).map((o) => [keyOf(o.policyType, o.externalId), o]),
  )

  // Same tenant: groups the sync found deleted, and filters no longer in the synced inventory.
  const gone = new Set<string>()
  if (sameTenant) {
    const referenced = new Set<string>()
    for (const o of planned)
      for (const a of o.assignments) {
        const target = (a.target ?? {}) as Body
        if (typeof target.groupId === 'string') referenced.add(target.groupId)
        const filter = target.deviceAndAppManagementAssignmentFilterId
        if (
          syncedAt &&
          typeof filter === 'string' &&
          filter !== '' &&
          !targetById.has(keyOf('assignmentFilter', filter))
        )
          gone.add(keyOf('assignment_filter', filter))
      }
    for (const id of await orphanedGroupIds(db, input.targetTenantId, [...referenced])) gone.add(keyOf('group', id))
  }
  const rememberedBy = new Map(remembered.map((m) => [keyOf(m.kind, m.sourceId), m.targetId]))
  const mapping = new Map<string, PlanMappingEntry>()
  const propose = (kind: MappingKind, sourceId: string): PlanMappingEntry => {
    const k = keyOf(kind, sourceId)
    const found = mapping.get(k)
    if (found) return found
    const type = KIND_TYPES[kind]
    const entry: PlanMappingEntry = {
      kind,
      source_id: sourceId,
      source_name: nameOf(kind, sourceId),
      target_id: null,
      target_name: null,
      proposed_by: null,
    }
    const inPlan = plannedBy.get(keyOf(type, sourceId))
    const match = inPlan ? matches.get(inPlan)?.target : undefined
    if (rememberedBy.has(k)) {
      entry.target_id = rememberedBy.get(k) ?? null
      entry.proposed_by = 'remembered'
    } else if (inPlan) {
      // The object is restored by this plan: its match in the target, or the copy this plan creates.
      entry.target_id = match?.externalId ?? null
      entry.proposed_by =
        match && sameTenant && match.externalId === sourceId
          ? 'same'
          : match && !sameTenant && match.displayName === entry.source_name
            ? 'name'
            : 'restore'
    } else if (sameTenant) {
      if (gone.has(k)) entry.gone = true
      else {
        entry.target_id = sourceId
        entry.proposed_by = 'same'
      }
    } else {
      const byName = (targetsByName.get(keyOf(type, entry.source_name)) ?? [])[0]
      if (byName) {
        entry.target_id = byName.externalId
        entry.proposed_by = 'name'
      }
    }
    if (entry.target_id)
      entry.target_name =
        targetNames.get(keyOf(type, entry.target_id)) ??
        (entry.target_id === sourceId && sameTenant ? entry.source_name : null)
    mapping.set(k, entry)
    return entry
  }
  const resolve: Resolve = (kind, sourceId) => {
    const m = propose(kind, sourceId)
    if (m.proposed_by === 'restore') return m.target_id ?? `${RESTORED_PREFIX}${sourceId}`
    if (m.proposed_by === 'same') return undefined
    return m.target_id
  }

  // Settings catalog definitions the target no longer offers (only for what would be written).
  const definitionIds = new Set<string>()
  for (const o of planned)
    if (o.payload.settings) for (const id of settingDefinitionIds(o.payload)) definitionIds.add(id)
  const retired = definitionIds.size > 0 ? await checkDefinitions([...definitionIds].sort()) : new Set<string>()

  // Current content of the matched targets whose content differs (by hash: identical copies need no read).
  const needContent = [...matches.entries()]
    .filter(([o, m]) => m.target && (!sameTenant || m.target.contentHash !== o.contentHash))
    .map(([, m]) => m.target!)
  const currentContent = await targetContents(db, input.targetTenantId, needContent)
  // Labels for both sides: what the target holds now, the settings of what would be written, and the ids the mapping points at.
  const mappedIds = [...mapping.values()].flatMap((m) => (m.target_id ? [m.target_id] : []))
  const diffNames = await namesOf(db, input.targetTenantId, [...currentContent.values(), ...planned], mappedIds)

  const items: PlannedItem[] = []
  for (const o of planned) {
    const entry = findPolicyType(o.policyType)
    const { target, ambiguous, otherType } = matches.get(o)!
    const base = {
      id: uuidv7(),
      position: 0,
      policyType: o.policyType,
      sourceExternalId: o.externalId,
      displayName: o.displayName,
      contentHash: o.contentHash,
      targetExternalId: target?.externalId ?? null,
      excluded: input.excluded?.has(keyOf(o.policyType, o.externalId)) ?? false,
      changes: null,
    }
    const blocked = (reason: string, warnings: string[] = []): PlannedItem => ({
      ...base,
      action: 'blocked',
      reason,
      warnings,
    })
    if (!entry) {
      items.push(blocked(`${o.policyType} is not a type TenantAtlas can restore (unsupported type)`))
      continue
    }
    const notWritable = notWritableReason(entry, o.payload)
    if (notWritable) {
      items.push(blocked(`Unsupported type: ${notWritable}`))
      continue
    }
    const mapped = mapContent({ payload: o.payload, assignments: o.assignments }, resolve, nameOf, (kind, id) =>
      gone.has(keyOf(kind, id)),
    )
    const warnings = [...new Set(mapped.warnings)]
    if (ambiguous) warnings.push(`Several objects in the target are named "${o.displayName}": the first one is updated`)
    if (mapped.unmappedTemplates.length > 0) {
      items.push(
        blocked(
          `A dependency cannot be mapped: notification template "${nameOf('notification_template', mapped.unmappedTemplates[0]!)}" has no counterpart in the target`,
          warnings,
        ),
      )
      continue
    }
    const retiredHere =
      retired === null
        ? []
        : (entry.details.some((d) => d.name === 'settings') ? settingDefinitionIds(o.payload) : []).filter((id) =>
            retired.has(id),
          )
    if (retiredHere.length > 0) {
      items.push(
        blocked(
          `The target no longer offers the setting definition ${retiredHere[0]}${retiredHere.length > 1 ? ` (and ${retiredHere.length - 1} more)` : ''}: Intune retired it, so Graph would refuse the policy (Invalid Reference id)`,
          warnings,
        ),
      )
      continue
    }
    if (retired === null && entry.details.some((d) => d.name === 'settings'))
      warnings.push('The setting definitions could not be checked against the target')
    const secrets = maskedSecrets(o.payload)
    // A masked secret can only be written back to the very object it was read from (Graph keeps the secret by its reference).
    if (secrets.length > 0 && (!target || !sameTenant || target.externalId !== o.externalId)) {
      items.push(
        blocked(
          `A masked secret cannot be restored: Graph never returns secrets (${secrets[0]} reads "****"); enter it again in Intune`,
          warnings,
        ),
      )
      continue
    }
    if (!target) {
      const reason = otherType
        ? `The target's "${otherType.displayName}" is a ${otherType.odataType ?? 'object of another type'}, not a ${typeof o.payload['@odata.type'] === 'string' ? o.payload['@odata.type'] : o.policyType}: not the same object, so a new one is created`
        : null
      items.push({ ...base, action: 'create', reason, warnings })
      continue
    }
    if (sameTenant && target.contentHash === o.contentHash) {
      items.push({ ...base, action: 'skip', reason: 'identical', warnings: [] })
      continue
    }
    const current = currentContent.get(keyOf(target.policyType, target.externalId))!
    if (canonicalJson(comparable(entry, mapped.content)) === canonicalJson(comparable(entry, current))) {
      items.push({ ...base, action: 'skip', reason: 'identical', warnings })
      continue
    }
    // What the restore changes: server-set values (version, times, counts) are Graph's, not the restore's.
    const writable = (c: ObjectContent): ObjectContent => ({
      payload: Object.fromEntries(Object.entries(c.payload).filter(([k]) => !SERVER_SET_PROPERTIES.includes(k))),
      assignments: c.assignments,
    })
    const changes = diffContents(writable(current), writable(mapped.content), diffNames)
    const fixed = detailsNotUpdated(entry).filter(
      (name) =>
        canonicalJson(comparable(entry, { payload: { [name]: current.payload[name] }, assignments: [] })) !==
        canonicalJson(comparable(entry, { payload: { [name]: mapped.content.payload[name] }, assignments: [] })),
    )
    if (fixed.length > 0)
      warnings.push(`An update cannot write ${fixed.join(', ')}: those stay as they are in the target`)
    items.push({ ...base, action: 'update', reason: null, warnings, changes })
  }
  items.sort(
    (a, b) =>
      orderOf(a.policyType) - orderOf(b.policyType) ||
      a.policyType.localeCompare(b.policyType) ||
      a.displayName.localeCompare(b.displayName) ||
      a.sourceExternalId.localeCompare(b.sourceExternalId),
  )
  items.forEach((item, i) => (item.position = i))
  return {
    items,
    mapping: [...mapping.values()].sort(
      (a, b) => a.kind.localeCompare(b.kind) || a.source_name.localeCompare(b.source_name),
    ),
    targetSyncedAt: syncedAt,
    definitionsChecked: retired !== null,
  }
}

/** Objects earlier restores from the source tenant created in the target: `type\nsource id` → the created id (the latest). */
async function restoredCopies(
  db: Executor,
  sourceTenantId: string,
  targetTenantId: string,
): Promise<Map<string, string>> {
  const prefix = `${journalKey(sourceTenantId, '', '').replace(/::$/, '')}:`
  const { rows } = await db.execute<{ key: string; target_id: string }>(sql`
    SELECT key, target_id FROM graph_writes
    WHERE tenant_id = ${targetTenantId} AND operation = 'create' AND state = 'confirmed' AND target_id IS NOT NULL
      AND starts_with(key, ${prefix}) AND right(key, 7) = ':create'
    ORDER BY confirmed_at`)
  const out = new Map<string, string>()
  for (const r of rows) {
    const rest = r.key.slice(prefix.length, -':create'.length)
    const colon = rest.indexOf(':')
    if (colon > 0) out.set(keyOf(rest.slice(0, colon), rest.slice(colon + 1)), r.target_id)
  }
  return out
}

/** The stored content of target objects, by `type\nid`. */
async function targetContents(
  db: Executor,
  tenantId: string,
  targets: readonly TargetObject[],
): Promise<Map<string, ObjectContent>> {
  const out = new Map<string, ObjectContent>()
  if (targets.length === 0) return out
  const { rows } = await db.execute<{
    policy_type: string
    external_id: string
    payload: Body
    assignments: Body[]
  }>(sql`
    SELECT i.policy_type, i.external_id, i.payload, i.assignments FROM inventory_items i
    JOIN jsonb_to_recordset(${JSON.stringify(targets.map((t) => ({ t: t.policyType, e: t.externalId })))}::jsonb) AS k(t text, e text) ON i.policy_type = k.t AND i.external_id = k.e
    WHERE i.tenant_id = ${tenantId}`)
  for (const r of rows) out.set(keyOf(r.policy_type, r.external_id), { payload: r.payload, assignments: r.assignments })
  return out
}
