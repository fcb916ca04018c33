import { describe, expect, it } from 'vitest'
import type { RestoreMapping, RestorePlan, RestorePlanItem } from './api.ts'
import {
  confirmationSentence,
  groupMapping,
  groupPlan,
  skipReasons,
  unmappedSentences,
  writesSentence,
} from './plan-summary.ts'

const item = (n: number, action: RestorePlanItem['action'], extra: Partial<RestorePlanItem> = {}): RestorePlanItem => ({
  id: `i${n}`,
  position: n,
  policy_type: 'deviceConfiguration',
  type_label: 'Device configuration profiles',
  display_name: `Object ${n}`,
  action,
  reason: action === 'skip' ? 'identical' : null,
  warnings: [],
  excluded: false,
  source_id: `s${n}`,
  target_id: null,
  changes: null,
  ...extra,
})
const ref = (
  kind: RestoreMapping['kind'],
  n: number,
  target: string | null,
  by: RestoreMapping['proposed_by'],
  gone = false,
) => ({
  kind,
  source_id: `${kind}${n}`,
  source_name: `${kind} ${n}`,
  target_id: target,
  target_name: target,
  proposed_by: by,
  gone,
})
const plan = (items: RestorePlanItem[], mapping: RestoreMapping[] = []): RestorePlan => ({
  id: 'p',
  backup_id: 'b',
  source_tenant_id: 'a',
  target_tenant_id: 'b',
  built_at: '2030-01-01T00:00:00Z',
  target_synced_at: null,
  stale: false,
  run_id: null,
  counts: { create: 0, update: 0, skip: 0, blocked: 0, excluded: 0 },
  items,
  mapping,
})

describe('plan grouping and wording (ADR 026)', () => {
  // 300 objects: 3 writes among 290 skips and 7 blocked, in write order.
  const big = plan([
    ...Array.from({ length: 150 }, (_, i) => item(i, 'skip')),
    item(150, 'create'),
    item(151, 'create'),
    ...Array.from({ length: 7 }, (_, i) => item(152 + i, 'blocked', { reason: 'masked secret' })),
    item(159, 'update'),
    ...Array.from({ length: 140 }, (_, i) =>
      item(160 + i, 'skip', { reason: i < 10 ? 'foundation kept' : 'identical' }),
    ),
  ])

  it('puts the writes first, blocked in their own group, and counts the skips by reason', () => {
    const g = groupPlan(big)
    expect(g.writes.map((i) => i.id)).toEqual(['i150', 'i151', 'i159'])
    expect(g.blocked).toHaveLength(7)
    expect(g.skipped).toHaveLength(290)
    expect(skipReasons(g.skipped)).toEqual([
      { reason: 'identical', count: 280 },
      { reason: 'foundation kept', count: 10 },
    ])
  })

  it('says what the restore writes in words and numbers, left-out items not counted', () => {
    expect(writesSentence(big, 'Fabrikam')).toBe('Create 2 and update 1 policy in Fabrikam')
    expect(writesSentence(plan([item(1, 'create')]), 'Fabrikam')).toBe('Create 1 policy in Fabrikam')
    expect(writesSentence(plan([item(1, 'update'), item(2, 'update')]), 'X')).toBe('Update 2 policies in X')
    expect(writesSentence(plan([item(1, 'update', { excluded: true })]), 'X')).toBe('Nothing to write in X')
  })

  it('names each kind of unmapped reference and what happens without it; restored and same objects are no gap', () => {
    const mapping = [
      ...Array.from({ length: 25 }, (_, i) => ref('group', i, null, null)),
      ref('assignment_filter', 1, null, null),
      ref('scope_tag', 1, null, 'restore'),
      ref('group', 99, 'group99', 'same'),
      ref('group', 98, 'x', 'name'),
    ]
    const p = plan([item(1, 'create'), item(2, 'create'), item(3, 'create'), item(4, 'update')], mapping)
    expect(confirmationSentence(p, 'Fabrikam')).toBe(
      'Create 3 and update 1 policy in Fabrikam; 25 groups are not mapped: their assignments will be left out; 1 assignment filter is not mapped: assignments that use it are restored without a filter.',
    )
    const m = groupMapping(p)
    expect(m.unmapped).toHaveLength(26)
    expect(m.same.map((x) => x.source_id)).toEqual(['group99'])
    // Unmapped first, then the rest that needs a look (by name, restored by this plan).
    expect(m.review.map((x) => x.proposed_by)).toEqual([...Array(26).fill(null), 'restore', 'name'])
    expect(unmappedSentences([])).toEqual([])
  })
  it('a group deleted from the tenant is no choice to make: it does not block, and the sentence says it is left out', () => {
    const mapping = [
      ref('group', 1, null, null, true),
      ref('group', 2, null, null, true),
      ref('group', 3, 'g3', 'same'),
    ]
    const p = plan([item(1, 'update')], mapping)
    expect(groupMapping(p).unmapped).toEqual([])
    expect(confirmationSentence(p, 'Contoso')).toBe(
      'Update 1 policy in Contoso; 2 groups no longer exist in Contoso: their assignments will be left out.',
    )
  })
})
