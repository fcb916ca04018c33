import type { Role } from './types.ts'

/** What each role may do, in one line (the capability table of the contract, said for people). */
export const ROLE_DESCRIPTIONS: Readonly<Record<Role, string>> = {
  owner: 'Everything a manager may do, and manages who is a member of the tenant.',
  manager:
    'Changes the tenant: restores, bulk changes, schedules and the connection; sees the audit trail. Cannot manage members.',
  operator: 'Runs syncs and backups and follows operations (cancels or re-runs their own); changes nothing in Intune.',
  readonly: 'Sees the inventory, versions, changes and backups; starts nothing.',
}
