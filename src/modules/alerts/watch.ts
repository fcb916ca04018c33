import type { Database } from '../../db/engine.ts'
import { expiringCredentialsByTenant } from '../inventory/tenant-summaries.ts'
import { latestRunsByTenant } from '../operations/tenant-summaries.ts'
import { listAllTenants } from '../tenants/repository.ts'
import { type AlertEvent, recordEvents } from './events.ts'

export type WatchOptions = {
  /** A tenant whose inventory has not synced successfully for this long is stale. */
  staleSyncHours: number
  /** Credentials Graph dates (APNs certificate, VPP and ADE tokens) alert this many days before they expire. */
  credentialDays: number
}

const DAY = 24 * 60 * 60 * 1000

/**
 * The events nothing writes as it happens (time passes): a tenant not synced successfully for too
 * long, a credential about to expire. Each is recorded once per occurrence (its dedupKey names the
 * last success, or the credential and its expiry), so the watch may run as often as it likes.
 */
export async function watchTenants(db: Database, options: WatchOptions, now = new Date()): Promise<number> {
  const tenants = await listAllTenants(db)
  if (tenants.length === 0) return 0
  const ids = tenants.map((t) => t.id)
  const [runs, credentials] = await Promise.all([
    latestRunsByTenant(db, ids, 'inventory.sync'),
    expiringCredentialsByTenant(db, ids, new Date(now.getTime() + options.credentialDays * DAY)),
  ])
  const events: AlertEvent[] = []
  const staleBefore = now.getTime() - options.staleSyncHours * 60 * 60 * 1000
  for (const tenant of tenants) {
    const success = runs.get(tenant.id)?.lastSuccessAt ?? null
    // A tenant never synced counts from when it was added.
    const since = success ?? tenant.createdAt
    if (since.getTime() < staleBefore)
      events.push({
        tenantId: tenant.id,
        kind: 'sync.stale',
        severity: 'medium',
        actor: null,
        subject: { type: 'tenant', id: tenant.id, name: tenant.name },
        summary: success
          ? `${tenant.name} has not synced successfully since ${success.toISOString()}`
          : `${tenant.name} has never synced successfully`,
        link: `/t/${tenant.id}/operations`,
        dedupKey: `sync.stale:${success?.toISOString() ?? 'never'}`,
      })
    for (const credential of credentials.get(tenant.id) ?? []) {
      const expiry = credential.expiresAt.toISOString()
      events.push({
        tenantId: tenant.id,
        kind: 'credential.expiring',
        severity: credential.expiresAt.getTime() - now.getTime() < 7 * DAY ? 'high' : 'medium',
        actor: null,
        subject: { type: credential.policyType, id: credential.itemId, name: credential.displayName },
        summary: `${credential.displayName} ${credential.expiresAt < now ? 'expired' : 'expires'} on ${expiry.slice(0, 10)}`,
        link: `/t/${tenant.id}/inventory/${credential.itemId}`,
        dedupKey: `credential:${credential.itemId}:${expiry}`,
      })
    }
  }
  return db.transaction((tx) => recordEvents(tx, events))
}
