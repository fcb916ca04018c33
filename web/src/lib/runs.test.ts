import { describe, expect, it } from 'vitest'
import { describeSelection, failureFix, initiatorLabel, orderedCounts, selectionOf, statusLabel, typeLabel } from './runs.ts'
import type { PolicyType } from './types.ts'

const catalog: PolicyType[] = [
  { key: 'deviceManagementScripts', label: 'PowerShell scripts', kind: 'policy', category: 'Scripts', platforms: ['windows'], permission: 'DeviceManagementScripts.Read.All' },
]

describe('run labels', () => {
  it('names unknown operation types "Unknown operation" and keeps known labels', () => {
    expect(typeLabel({ type_label: 'Inventory sync' })).toBe('Inventory sync')
    expect(typeLabel({ type_label: 'Unknown operation' })).toBe('Unknown operation')
    expect(typeLabel({ type_label: '' })).toBe('Unknown operation')
  })

  it('says "System" for runs nobody started', () => {
    expect(initiatorLabel({ initiator: null })).toBe('System')
    expect(initiatorLabel({ initiator: { id: 'u1', name: 'Ada' } })).toBe('Ada')
  })

  it('shows Cancelling… for a running run asked to stop', () => {
    expect(statusLabel({ status: 'queued', cancel_requested: false })).toBe('Queued')
    expect(statusLabel({ status: 'running', cancel_requested: false })).toBe('Running')
    expect(statusLabel({ status: 'running', cancel_requested: true })).toBe('Cancelling…')
    expect(statusLabel({ status: 'completed', cancel_requested: true })).toBe('Completed')
  })

  it('orders counts for reading: total and processed first, then the rest', () => {
    expect(orderedCounts({ zeta: 1, failed: 2, total: 10, processed: 5, created: 3 }).map(([k]) => k)).toEqual(['total', 'processed', 'created', 'failed', 'zeta'])
  })
})

describe('failureFix', () => {
  it('names the permission to grant for a missing permission, from the catalog', () => {
    expect(failureFix({ code: 'missing_permission', message: 'Forbidden', subject: 'deviceManagementScripts' }, catalog)).toBe(
      'Grant DeviceManagementScripts.Read.All to the app registration and admin-consent it',
    )
  })

  it('falls back to the permission named in the message', () => {
    expect(failureFix({ code: 'missing_permission', message: 'The app lacks DeviceManagementApps.Read.All', subject: 'mobileApps' })).toBe(
      'Grant DeviceManagementApps.Read.All to the app registration and admin-consent it',
    )
  })

  it('has no fix for codes it does not know', () => {
    expect(failureFix({ code: 'graph_error', message: 'x', subject: null })).toBeNull()
  })
})

describe('selection', () => {
  it('reads the canonical selection from the run context', () => {
    expect(selectionOf({ context: { selection: { policy_types: ['a'], categories: [], include_foundations: false, include_dependencies: true } } })).toEqual({
      policy_types: ['a'],
      categories: [],
      include_foundations: false,
      include_dependencies: true,
    })
    expect(selectionOf({ context: {} })).toBeNull()
  })

  it('describes a full inventory and a narrowed one', () => {
    expect(describeSelection({ policy_types: [], categories: [], include_foundations: true, include_dependencies: true })).toBe('Full inventory (with foundations and dependencies)')
    expect(describeSelection({ policy_types: ['deviceManagementScripts'], categories: ['Compliance'], include_foundations: false, include_dependencies: false }, catalog)).toBe(
      'Types: PowerShell scripts · Categories: Compliance (no foundations or dependencies)',
    )
  })
})
