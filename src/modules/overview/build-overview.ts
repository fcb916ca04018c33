import type { Executor } from '../../db/engine.ts'
import type { Role, TenantRow } from '../../db/schema.ts'
import { POLICY_TYPES } from '../../graph/policy-types.ts'
import { newestBackupByTenant } from '../backups/tenant-summaries.ts'
import { changeSummaryByTenant, expiringCredentialsByTenant } from '../inventory/tenant-summaries.ts'
import { runViewPath } from '../operations/links.ts'
import { latestRunsByTenant } from '../operations/tenant-summaries.ts'
import { attentionOf, attentionScore, EXPIRY_WINDOW_MS, healthOf, STALE_AFTER_MS } from './attention.ts'
import { findingSummaryByTenant, type FindingSummary } from '../findings/tenant-summaries.ts'
import type { OverviewRow } from './schemas.ts'

const findingsCell = (id: string, s: FindingSummary | undefined) =>
  s ? { ...s.bySeverity, link: `/t/${id}/findings` } : null

/** Aligned entries per hundred judged ones (unknowns never lower it); judged per hundred (coverage). */
function alignmentCell(id: string, s: FindingSummary | undefined) {
  if (!s) return null
  const judged = s.entries - s.unknown
  return {
    entries: s.entries,
    deviating: s.deviating,
    unknown: s.unknown,
    score: judged === 0 ? null : Math.round(((judged - s.deviating) / judged) * 1000) / 10,
    coverage: s.entries === 0 ? 100 : Math.round((judged / s.entries) * 1000) / 10,
    link: `/t/${id}/findings`,
  }
}

const PERMISSION_OF = new Map(POLICY_TYPES.map((e) => [e.key, e.permission as string]))
const WEEK_MS = 7 * 24 * 60 * 60 * 1000

/**
 * One row per tenant, sorted by what needs attention (then by name). Each signal comes from the
 * module that owns it, one statement per signal for all tenants: the cost grows with the number of
 * signals, not of tenants. Findings by severity and alignment come from the findings module
 * (tenants with an enabled baseline; null for the others).
 */
export async function buildOverview(
  db: Executor,
  tenants: { tenant: TenantRow; role: Role }[],
  now = new Date(),
): Promise<OverviewRow[]> {
  const ids = tenants.map((t) => t.tenant.id)
  const [runs, changes, backups, expiring, drift] = await Promise.all([
    latestRunsByTenant(db, ids, 'inventory.sync'),
    changeSummaryByTenant(db, ids, new Date(now.getTime() - WEEK_MS)),
    newestBackupByTenant(db, ids),
    expiringCredentialsByTenant(db, ids, new Date(now.getTime() + EXPIRY_WINDOW_MS)),
    findingSummaryByTenant(db, ids),
  ])
  const rows = tenants.map(({ tenant, role }) => {
    const id = tenant.id
    const run = runs.get(id) ?? { last: null, lastSuccessAt: null }
    // The newest completed sync says which types it could not read; a running one has not said yet.
    const gaps = (run.last?.status === 'completed' ? run.last.failures : [])
      .filter((f) => f.code === 'missing_permission' && f.subject)
      .map((f) => ({ policy_type: f.subject!, permission: PERMISSION_OF.get(f.subject!) ?? f.subject! }))
    const backup = backups.get(id) ?? null
    const credentials = expiring.get(id) ?? []
    const attention = attentionOf(
      {
        lastSync: run.last,
        lastSuccessAt: run.lastSuccessAt,
        permissionGaps: gaps,
        newestBackupAt: backup?.createdAt ?? null,
        expiring: credentials,
      },
      now,
    )
    const age = (at: Date) => Math.max(0, Math.round((now.getTime() - at.getTime()) / 1000))
    const row: OverviewRow = {
      tenant: { id, name: tenant.name, role },
      health: healthOf(attention),
      attention,
      sync: {
        last_success_at: run.lastSuccessAt?.toISOString() ?? null,
        age_seconds: run.lastSuccessAt ? age(run.lastSuccessAt) : null,
        fresh: run.lastSuccessAt !== null && now.getTime() - run.lastSuccessAt.getTime() <= STALE_AFTER_MS,
        last_run: run.last
          ? {
              id: run.last.id,
              status: run.last.status,
              outcome: run.last.outcome,
              created_at: run.last.createdAt.toISOString(),
              link: runViewPath(id, run.last.id),
            }
          : null,
        link: `/t/${id}/inventory`,
      },
      permission_gaps: [...new Map(gaps.map((g) => [g.policy_type, g])).values()],
      changes_7d: { ...(changes.get(id) ?? { count: 0, by: [] }), link: `/t/${id}/changes` },
      newest_backup: backup
        ? {
            id: backup.id,
            created_at: backup.createdAt.toISOString(),
            age_seconds: age(backup.createdAt),
            link: `/t/${id}/backups/${backup.id}`,
          }
        : null,
      expiring_credentials: credentials.map((c) => ({
        item_id: c.itemId,
        policy_type: c.policyType,
        display_name: c.displayName,
        expires_at: c.expiresAt.toISOString(),
        link: `/t/${id}/inventory/${c.itemId}`,
      })),
      findings: findingsCell(id, drift.get(id)),
      alignment: alignmentCell(id, drift.get(id)),
    }
    return { row, score: attentionScore(attention) }
  })
  rows.sort(
    (a, b) =>
      b.score - a.score ||
      a.row.tenant.name.localeCompare(b.row.tenant.name) ||
      a.row.tenant.id.localeCompare(b.row.tenant.id),
  )
  return rows.map((r) => r.row)
}
