import type { RunFailure, RunOutcome, RunStatus } from '../../db/schema.ts'

/** A successful sync older than this makes a tenant stale. */
export const STALE_AFTER_MS = 24 * 60 * 60 * 1000
/** A backup older than this (or none) asks for attention. */
export const BACKUP_OLD_AFTER_MS = 7 * 24 * 60 * 60 * 1000
/** Credentials expiring within this window are shown. */
export const EXPIRY_WINDOW_MS = 30 * 24 * 60 * 60 * 1000

export const HEALTHS = ['critical', 'warning', 'ok'] as const
export type Health = (typeof HEALTHS)[number]
export type Attention = { code: string; severity: Exclude<Health, 'ok'>; message: string }

export type TenantSignals = {
  lastSync: { status: RunStatus; outcome: RunOutcome | null; failures: RunFailure[] } | null
  lastSuccessAt: Date | null
  permissionGaps: { permission: string }[]
  newestBackupAt: Date | null
  expiring: { displayName: string; expiresAt: Date }[]
}

const days = (ms: number) => Math.floor(ms / (24 * 60 * 60 * 1000))

/**
 * What needs a person's look, most urgent first: the reasons are data, so the console shows them as
 * they are and sorts nothing itself. Findings by severity join here when a baselines module exists.
 */
export function attentionOf(s: TenantSignals, now: Date): Attention[] {
  const out: Attention[] = []
  if (!s.lastSuccessAt) out.push({ code: 'never_synced', severity: 'critical', message: 'Never synced successfully' })
  if (s.lastSync?.status === 'completed' && s.lastSync.outcome === 'failed') {
    out.push({
      code: 'sync_failed',
      severity: 'critical',
      message: `The last sync failed${s.lastSync.failures[0] ? `: ${s.lastSync.failures[0].message}` : ''}`,
    })
  }
  for (const c of s.expiring.filter((e) => e.expiresAt <= now)) {
    out.push({
      code: 'credential_expired',
      severity: 'critical',
      message: `${c.displayName} expired on ${c.expiresAt.toISOString().slice(0, 10)}`,
    })
  }
  if (s.permissionGaps.length > 0) {
    const names = s.permissionGaps.map((g) => g.permission).join(', ')
    out.push({ code: 'permission_gap', severity: 'warning', message: `The app registration lacks ${names}` })
  }
  if (s.lastSuccessAt && now.getTime() - s.lastSuccessAt.getTime() > STALE_AFTER_MS) {
    out.push({
      code: 'stale',
      severity: 'warning',
      message: `Last successful sync ${days(now.getTime() - s.lastSuccessAt.getTime())} days ago`,
    })
  }
  for (const c of s.expiring.filter((e) => e.expiresAt > now)) {
    const inDays = days(c.expiresAt.getTime() - now.getTime())
    out.push({
      code: 'credential_expiring',
      severity: 'warning',
      message: `${c.displayName} expires in ${inDays} days`,
    })
  }
  if (!s.newestBackupAt) out.push({ code: 'no_backup', severity: 'warning', message: 'No backup yet' })
  else if (now.getTime() - s.newestBackupAt.getTime() > BACKUP_OLD_AFTER_MS) {
    out.push({
      code: 'backup_old',
      severity: 'warning',
      message: `Newest backup is ${days(now.getTime() - s.newestBackupAt.getTime())} days old`,
    })
  }
  return out
}

export const healthOf = (attention: Attention[]): Health =>
  attention.some((a) => a.severity === 'critical') ? 'critical' : attention.length > 0 ? 'warning' : 'ok'

/** Sort key: critical reasons outweigh any number of warnings; more reasons first within a level. */
export const attentionScore = (attention: Attention[]) =>
  attention.reduce((sum, a) => sum + (a.severity === 'critical' ? 1_000 : 1), 0)
