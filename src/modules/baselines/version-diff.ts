import type { Executor } from '../../db/engine.ts'
import type { BaselineRow } from '../../db/schema.ts'
import { notFound } from '../../lib/errors.ts'
import { diffContents } from '../inventory/diff.ts'
import { namesOf } from '../inventory/item-diff.ts'
import { contentsOf, findVersion } from './repository.ts'

/**
 * A readable diff between two versions of a baseline: entries added, removed, or changed (their
 * content as the version diff shows it, and what they compare or ignore).
 */
export async function versionDiff(db: Executor, baseline: BaselineRow, fromNumber?: number, toNumber?: number) {
  const to = toNumber ?? baseline.version
  const from = fromNumber ?? Math.max(1, to - 1)
  const [a, b] = await Promise.all([findVersion(db, baseline.id, from), findVersion(db, baseline.id, to)])
  if (!a || !b) throw notFound('Baseline version')
  const before = new Map(a.entries.map((e) => [e.id, e]))
  const after = new Map(b.entries.map((e) => [e.id, e]))
  const changedHashes = b.entries
    .filter((e) => before.has(e.id) && before.get(e.id)!.content_hash !== e.content_hash)
    .flatMap((e) => [e.content_hash, before.get(e.id)!.content_hash])
  const contents = await contentsOf(db, changedHashes)
  const names = await namesOf(db, baseline.homeTenantId, [...contents.values()])
  const entries = []
  for (const id of new Set([...before.keys(), ...after.keys()])) {
    const x = before.get(id)
    const y = after.get(id)
    const shown = (y ?? x)!
    const base = { entry_id: id, policy_type: shown.policy_type, display_name: shown.display_name }
    if (!x) entries.push({ ...base, kind: 'added' as const, changes: [] })
    else if (!y) entries.push({ ...base, kind: 'removed' as const, changes: [] })
    else {
      const changes =
        x.content_hash === y.content_hash
          ? []
          : diffContents(contents.get(x.content_hash) ?? null, contents.get(y.content_hash) ?? null, names)
      const settings = [
        JSON.stringify(x.compare) !== JSON.stringify(y.compare)
          ? { path: 'compare', label: 'Compared', kind: 'changed' as const, before: x.compare, after: y.compare }
          : null,
        JSON.stringify(x.ignore) !== JSON.stringify(y.ignore)
          ? { path: 'ignore', label: 'Ignored paths', kind: 'changed' as const, before: x.ignore, after: y.ignore }
          : null,
      ].filter((c) => c !== null)
      if (changes.length + settings.length > 0)
        entries.push({ ...base, kind: 'changed' as const, changes: [...settings, ...changes] })
    }
  }
  return { from, to, entries }
}
