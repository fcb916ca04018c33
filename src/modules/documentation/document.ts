import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'
import { findPolicyType } from '../../graph/policy-types.ts'
import { showValue } from '../compare/export.ts'
import { sourceOf, type Side, type SideKey } from '../compare/sides.ts'
import { diffContents } from '../inventory/diff.ts'
import { namesOf } from '../inventory/item-diff.ts'

/**
 * The document's model (issue 27, ADR 027): every object of a source with its settings as the
 * version diff labels them (the same flattening: a setting's definition name, a choice's option
 * name), its scope tags and, when asked, its assignments with group names. Objects come in a fixed
 * order (type, name, id; compared as bytes, never by locale), batch by batch, so a document of
 * 10,000 objects holds one batch at a time and the same source always gives the same document.
 */

export type DocEntry = { label: string; value: string }
export type DocObject = {
  type: string
  typeLabel: string
  name: string
  id: string
  settings: DocEntry[]
  scopeTags: string[]
  assignments: DocEntry[] | null
}
export type DocChange = { at: string; type: string; name: string; kind: string; by: string }

const BATCH = 200
export const MASKED = '(secret, not shown)'
const SECRET_KEY = /(password|secret|presharedkey|sharedkey|privatekey|passphrase|psk)$/i
const byBytes = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

export const typeLabelOf = (type: string) => findPolicyType(type)?.label ?? type

/** A value as text, a secret never: Graph's masked `****`, or any setting whose name says it is one. */
export function documentedValue(path: string, value: unknown): string {
  const last = path.split('/').at(-1) ?? ''
  if (SECRET_KEY.test(last.replace(/\[.*$/, ''))) return MASKED
  if (typeof value === 'string' && /^\*{3,}$/.test(value)) return MASKED
  return showValue(value)
}

/** The source's objects in document order (light keys only). */
export async function documentKeys(db: Executor, side: Side): Promise<SideKey[]> {
  const keys = await sourceOf(side).keys(db, side)
  return keys.sort(
    (a, b) => byBytes(a.policyType, b.policyType) || byBytes(a.name, b.name) || byBytes(a.externalId, b.externalId),
  )
}

/** The objects of `keys`, batch by batch, as the document shows them. */
export async function* documentObjects(
  db: Executor,
  side: Side,
  keys: readonly SideKey[],
  options: { includeAssignments: boolean },
): AsyncGenerator<DocObject[]> {
  for (let start = 0; start < keys.length; start += BATCH) {
    const batch = keys.slice(start, start + BATCH)
    const contents = await sourceOf(side).contents(db, side, [...new Set(batch.map((k) => k.ref))])
    const shown = [...contents.values()].map((c) => ({
      payload: c.payload,
      assignments: options.includeAssignments ? [...c.assignments] : [],
    }))
    const names = await namesOf(db, side.tenantId, shown)
    yield batch.map((key) => {
      const content = contents.get(key.ref) ?? { payload: {}, assignments: [] }
      const entries = diffContents(
        null,
        { payload: content.payload, assignments: options.includeAssignments ? content.assignments : [] },
        names,
      )
      const settings: DocEntry[] = []
      const scopeTags: string[] = []
      const assignments: DocEntry[] = []
      for (const e of entries) {
        if (e.path === 'displayName') continue
        if (e.path.startsWith('roleScopeTagIds/')) scopeTags.push(e.label.replace(/^Scope tag: /, ''))
        else if (e.path.startsWith('assignments/'))
          assignments.push({ label: e.label.replace(/^Assignment: /, ''), value: documentedValue(e.path, e.after) })
        else settings.push({ label: e.label, value: documentedValue(e.path, e.after) })
      }
      return {
        type: key.policyType,
        typeLabel: typeLabelOf(key.policyType),
        name: key.name,
        id: key.externalId,
        settings,
        scopeTags,
        assignments: options.includeAssignments ? assignments : null,
      }
    })
  }
}

/** At most this many entries in the appendix (the change history page has the rest). */
export const MAX_CHANGES = 5_000

/** The change history from `since` up to the source's time (who, what, when), oldest first. */
export async function changesSince(db: Executor, side: Side, since: Date, until: Date | null): Promise<DocChange[]> {
  const { rows } = await db.execute<{
    at: Date | string
    type: string
    name: string
    kind: string
    by: { user_principal_name?: string; app_name?: string } | null
  }>(sql`
    SELECT detected_at AS at, policy_type AS type, display_name AS name, kind, changed_by AS by
    FROM inventory_changes
    WHERE tenant_id = ${side.tenantId} AND detected_at >= ${since.toISOString()}::timestamptz
      ${until ? sql`AND detected_at <= ${until.toISOString()}::timestamptz` : sql``}
      AND policy_type <> 'group'
    ORDER BY detected_at, id LIMIT ${MAX_CHANGES + 1}`)
  return rows.map((r) => ({
    at: new Date(r.at).toISOString(),
    type: r.type,
    name: r.name,
    kind: r.kind,
    by: r.by?.user_principal_name ?? r.by?.app_name ?? 'unknown',
  }))
}
