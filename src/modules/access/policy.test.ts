import { describe, expect, it } from 'vitest'
import { can, canManageRun, capabilitiesOf, CAPABILITIES, ROLES } from './policy.ts'

// The role table of docs/api.md and the README, transcribed: ✓ = allowed; "own" = operators for their own runs only.
const CONTRACT_TABLE: Record<(typeof CAPABILITIES)[number], [string, string, string, string]> = {
  'tenant.view': ['✓', '✓', '✓', '✓'],
  'inventory.sync': ['✓', '✓', '✓', ''],
  'operations.view': ['✓', '✓', '✓', ''],
  'operations.manage': ['✓', '✓', 'own', ''],
  'tenant.manage': ['✓', '✓', '', ''],
  'audit.view': ['✓', '✓', '', ''],
  'members.manage': ['✓', '', '', ''],
  'schedules.manage': ['✓', '✓', '', ''],
  'backups.manage': ['✓', '✓', '✓', ''],
  'restore.execute': ['✓', '✓', '', ''],
  'bulk.execute': ['✓', '✓', '', ''],
  'baselines.manage': ['✓', '✓', '', ''],
  'findings.manage': ['✓', '✓', '✓', ''],
  'findings.approve': ['✓', '', '', ''],
  'alerts.manage': ['✓', '', '', ''],
}

describe('capability matrix', () => {
  it.each(ROLES.map((role, column) => ({ role, column })))(
    '$role has exactly the capabilities of the role table',
    ({ role, column }) => {
      const expected = CAPABILITIES.filter((c) => CONTRACT_TABLE[c][column] !== '')
      expect(capabilitiesOf(role)).toEqual(expected)
      for (const capability of CAPABILITIES) expect(can(role, capability)).toBe(expected.includes(capability))
    },
  )

  it('lets operators manage only their own runs', () => {
    const run = { initiatorUserId: 'u1' }
    expect(canManageRun({ tenantId: 't', userId: 'u1', role: 'operator' }, run)).toBe(true)
    expect(canManageRun({ tenantId: 't', userId: 'u2', role: 'operator' }, run)).toBe(false)
    expect(canManageRun({ tenantId: 't', userId: 'u2', role: 'manager' }, run)).toBe(true)
    expect(canManageRun({ tenantId: 't', userId: 'u1', role: 'readonly' }, run)).toBe(false)
    expect(canManageRun({ tenantId: 't', userId: 'u1', role: 'operator' }, { initiatorUserId: null })).toBe(false)
  })
})
