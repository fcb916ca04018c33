import { describe, expect, it } from 'vitest'
import {
  codeLabel,
  describeSelection,
  groupFailures,
  inputLines,
  failureFix,
  initiatorLabel,
  orderedCounts,
  selectionOf,
  statusLabel,
  typeLabel,
} from './runs.ts'
import { operationTypes } from '../test/fixtures.ts'
import type { OperationType, PolicyType } from './types.ts'

const catalog: PolicyType[] = [
  {
    key: 'deviceManagementScripts',
    label: 'PowerShell scripts',
    kind: 'policy',
    category: 'Scripts',
    platforms: ['windows'],
    permission: 'DeviceManagementScripts.Read.All',
  },
]

const sync: OperationType = operationTypes.data[0]!

describe('run labels', () => {
  it('names unknown operation types "Unknown operation" and keeps known labels', () => {
    expect(typeLabel({ type_label: 'Inventory sync' })).toBe('Inventory sync')
    expect(typeLabel({ type_label: 'Unknown operation' })).toBe('Unknown operation')
    expect(typeLabel({ type_label: '' })).toBe('Unknown operation')
  })

  it('says "System" for runs nobody started, and names the schedule of a scheduled run', () => {
    expect(initiatorLabel({ initiator: null })).toBe('System')
    expect(initiatorLabel({ initiator: null, schedule: null })).toBe('System')
    expect(initiatorLabel({ initiator: null, schedule: { id: 's1', name: 'Nightly sync' } })).toBe(
      'Schedule: Nightly sync',
    )
    expect(initiatorLabel({ initiator: { id: 'u1', name: 'Ada' } })).toBe('Ada')
  })

  it("shows the server's status label", () => {
    expect(statusLabel({ status_label: 'Cancelling…' })).toBe('Cancelling…')
  })

  it('orders counts for reading: total and processed first, then the rest', () => {
    expect(orderedCounts({ zeta: 1, failed: 2, total: 10, processed: 5, created: 3 }).map(([k]) => k)).toEqual([
      'total',
      'processed',
      'created',
      'failed',
      'zeta',
    ])
  })
})

describe('failureFix', () => {
  it("reads the fix from the failure's operation type, for every code the server emits", () => {
    expect(failureFix({ code: 'missing_permission' }, sync)).toBe(
      'Grant the missing application permission (named above) to the app registration in Entra ID and admin-consent it, then re-run.',
    )
    expect(failureFix({ code: 'throttled_exhausted' }, sync)).toBe(
      'Microsoft Graph kept throttling the tenant: re-run later, outside busy hours.',
    )
  })

  it('has no fix for codes the type does not list, or for an unknown type', () => {
    expect(failureFix({ code: 'graph_error' }, sync)).toBeNull()
    expect(failureFix({ code: 'missing_permission' }, undefined)).toBeNull()
  })
})

describe('selection', () => {
  it('reads the canonical selection from the run context', () => {
    expect(
      selectionOf({
        context: {
          selection: { policy_types: ['a'], categories: [], include_foundations: false, include_dependencies: true },
        },
      }),
    ).toEqual({
      policy_types: ['a'],
      categories: [],
      include_foundations: false,
      include_dependencies: true,
      mode: 'full',
    })
    expect(selectionOf({ context: {} })).toBeNull()
  })

  it('describes a full inventory and a narrowed one', () => {
    expect(
      describeSelection({
        policy_types: [],
        categories: [],
        include_foundations: true,
        include_dependencies: true,
        mode: 'full',
      }),
    ).toBe('Full inventory (with foundations and dependencies)')
    expect(
      describeSelection({
        policy_types: [],
        categories: [],
        include_foundations: true,
        include_dependencies: true,
        mode: 'quick',
      }),
    ).toBe('Quick: Full inventory (with foundations and dependencies)')
    expect(
      describeSelection(
        {
          policy_types: ['deviceManagementScripts'],
          categories: ['Compliance'],
          include_foundations: false,
          include_dependencies: false,
          mode: 'full',
        },
        catalog,
      ),
    ).toBe('Types: PowerShell scripts · Categories: Compliance (no foundations or dependencies)')
  })
})

describe('readable run internals', () => {
  it('says codes in words', () => {
    expect(codeLabel('missing_permission')).toBe('Missing permission')
  })

  it('groups failures by problem: one missing permission, once, with every type it blocked', () => {
    const failures = [
      { code: 'missing_permission', message: 'lacks A.Read', subject: 'scripts' },
      { code: 'missing_permission', message: 'lacks A.Read', subject: 'remediations' },
      { code: 'throttled', message: 'slow down', subject: 'apps' },
    ]
    const groups = groupFailures(failures, (f) => (f.code === 'missing_permission' ? 'Grant A.Read' : null))
    expect(groups.map((g) => [g.code, g.fix, g.failures.map((f) => f.subject)])).toEqual([
      ['missing_permission', 'Grant A.Read', ['scripts', 'remediations']],
      ['throttled', null, ['apps']],
    ])
  })

  it('lists a run input as labelled lines without the selection digest', () => {
    expect(
      inputLines({
        params: { prefix: 'x', keep_assignments: true },
        filter: null,
        item_count: 6,
        selection_digest: 'f'.repeat(64),
        item_ids: ['a', 'b'],
      }),
    ).toEqual([
      { label: 'Params › Prefix', value: 'x' },
      { label: 'Params › Keep assignments', value: 'Yes' },
      { label: 'Filter', value: '—' },
      { label: 'Item count', value: '6' },
      { label: 'Item ids', value: 'a, b' },
    ])
  })
})
