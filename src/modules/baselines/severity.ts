import type { FindingKind, FindingSeverity } from '../../db/schema.ts'

/**
 * Severity by setting path (issue 25): a missing object, assignments, scope tags and anything about
 * encryption or deletion are high; names and descriptions low; the rest medium.
 */
const RULES: readonly { test: (path: string, kind: FindingKind) => boolean; severity: FindingSeverity }[] = [
  { test: (_p, kind) => kind === 'missing', severity: 'high' },
  { test: (p) => /encrypt|bitlocker|filevault|delet|wipe/i.test(p), severity: 'high' },
  { test: (p) => p.startsWith('assignments/') || p.startsWith('roleScopeTagIds/'), severity: 'high' },
  { test: (p) => p === 'displayName' || p === 'description', severity: 'low' },
]

export function severityOf(path: string, kind: FindingKind): FindingSeverity {
  return RULES.find((r) => r.test(path, kind))?.severity ?? 'medium'
}
