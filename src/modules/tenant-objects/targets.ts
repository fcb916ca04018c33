import { and, eq, inArray, isNull } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { inventoryItems, tenants } from '../../db/schema.ts'
import { GraphClient } from '../../graph/graph-client.ts'
import { createMsalTokenProvider } from '../../graph/token-provider.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { graphContextOf } from '../tenants/graph-context.ts'

/**
 * The targets a write points at in the target tenant (ADR 023): a group, an assignment filter or
 * a scope tag named by a restore mapping or bulk parameters must be an object of that tenant —
 * in its inventory, or (groups: the inventory keeps only the groups something refers to)
 * confirmed by reading it from Graph. Anything else is refused before a plan or a run exists,
 * naming the field and the id, instead of failing later in Graph (or worse, not failing).
 */

export type TargetKind = 'group' | 'assignment_filter' | 'scope_tag'
export type TargetRef = { field: string; kind: TargetKind; id: string }
/** Which of these group ids Graph has in the tenant; null when Graph cannot tell. */
export type GroupConfirm = (ids: readonly string[]) => Promise<ReadonlySet<string> | null>

const TYPES: Readonly<Record<TargetKind, string>> = {
  group: 'group',
  assignment_filter: 'assignmentFilter',
  scope_tag: 'roleScopeTag',
}
const LABELS: Readonly<Record<TargetKind, string>> = {
  group: 'group',
  assignment_filter: 'assignment filter',
  scope_tag: 'scope tag',
}
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
// Scope tag ids are numbers in Intune ("0" is Default).
const FORMATS: Readonly<Record<TargetKind, RegExp>> = { group: GUID, assignment_filter: GUID, scope_tag: /^\d{1,19}$/ }

/** The issues of refs that are not objects of the tenant (empty: all are). */
export async function checkTargets(
  db: Executor,
  tenantId: string,
  refs: readonly TargetRef[],
  confirmGroups: GroupConfirm,
): Promise<{ field: string; message: string }[]> {
  const issues: { field: string; message: string }[] = []
  const wellFormed = refs.filter((ref) => {
    if (FORMATS[ref.kind].test(ref.id)) return true
    issues.push({ field: ref.field, message: `${JSON.stringify(ref.id)} is not a ${LABELS[ref.kind]} id` })
    return false
  })
  if (wellFormed.length === 0) return issues
  const rows = await db
    .select({ type: inventoryItems.policyType, id: inventoryItems.externalId })
    .from(inventoryItems)
    .where(
      and(
        eq(inventoryItems.tenantId, tenantId),
        isNull(inventoryItems.removedAt),
        inArray(inventoryItems.externalId, [...new Set(wellFormed.map((r) => r.id))]),
      ),
    )
  const known = new Set(rows.map((r) => `${r.type}\n${r.id.toLowerCase()}`))
  const unknown = wellFormed.filter((ref) => !known.has(`${TYPES[ref.kind]}\n${ref.id.toLowerCase()}`))
  const groups = [...new Set(unknown.filter((r) => r.kind === 'group').map((r) => r.id))]
  const confirmed = groups.length > 0 ? await confirmGroups(groups) : new Set<string>()
  for (const ref of unknown) {
    if (ref.kind === 'group' && confirmed?.has(ref.id)) continue
    const why =
      ref.kind === 'group' && confirmed === null
        ? 'could not be confirmed in Graph'
        : ref.kind === 'group'
          ? 'is not a group of the target tenant'
          : "is not in the target tenant's inventory"
    issues.push({ field: ref.field, message: `${LABELS[ref.kind]} ${ref.id} ${why}` })
  }
  return issues
}

/** The Graph client routes confirm groups with (the process's shared budgets). */
let routeGraph: GraphClient | undefined

/** Confirms groups by reading them from the tenant's Graph (a 404 is no group of the tenant). */
export function graphGroupConfirm(
  db: Executor,
  deps: { secrets: SecretBox; emulatorUrl: string | undefined },
  tenantId: string,
): GroupConfirm {
  return async (ids) => {
    const [tenant] = await db.select().from(tenants).where(eq(tenants.id, tenantId))
    if (!tenant) return null
    try {
      const ctx = graphContextOf(tenant, deps.secrets, deps.emulatorUrl)
      routeGraph ??= new GraphClient({ tokens: createMsalTokenProvider(), retry: { maxAttempts: 3 } })
      const reads = await routeGraph.readGroups(ctx, ids)
      if (reads.some((r) => r.error)) return null
      return new Set(reads.filter((r) => r.group).map((r) => r.id))
    } catch {
      return null
    }
  }
}
