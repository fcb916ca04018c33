import { describe, expect, it } from 'vitest'
import { SHAPES } from '../../src/emulator/shapes.ts'
import { rng } from '../../src/emulator/random.ts'
import { getPolicyType, POLICY_TYPES } from '../../src/graph/policy-types.ts'
import {
  actionsFor,
  canonicalParams,
  mergeAssign,
  mergeScopeTag,
  mergeUnassign,
  renamed,
  unsupportedReason,
  type AssignParams,
} from '../../src/modules/bulk/actions.ts'
import { planItem } from '../../src/modules/bulk/plan.ts'

const group = (id: string, exclude = false, filter?: string) => ({
  id: `x_${id}`,
  target: {
    '@odata.type': exclude
      ? '#microsoft.graph.exclusionGroupAssignmentTarget'
      : '#microsoft.graph.groupAssignmentTarget',
    groupId: id,
    ...(filter
      ? { deviceAndAppManagementAssignmentFilterId: filter, deviceAndAppManagementAssignmentFilterType: 'include' }
      : {}),
  },
})
const allDevices = { id: 'x_all', target: { '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget' } }
const include = (groupId: string): AssignParams => ({
  group_id: groupId,
  intent: 'include',
  filter_id: null,
  filter_mode: null,
})
const config = getPolicyType('deviceConfiguration')

describe('bulk actions', () => {
  it('says which types carry scope tags exactly as Graph shapes them (the emulator’s generated objects)', () => {
    for (const entry of POLICY_TYPES) {
      const shape = SHAPES[entry.key]
      if (!shape) continue
      const sample = shape.make({
        r: rng(1),
        index: 0,
        id: '0',
        name: 'x',
        description: '',
        created: '',
        modified: '',
        scopeTagIds: ['0'],
        builtIn: false,
      })
      const tagged = ('roleScopeTagIds' in sample || 'roleScopeTags' in sample) && entry.kind !== 'dependency'
      expect(unsupportedReason('add_scope_tag', entry) === null, entry.key).toBe(tagged)
    }
  })

  it('offers assignments only where the type has them, and nothing for Entra groups', () => {
    expect(unsupportedReason('assign', getPolicyType('assignmentFilter'))?.reason).toMatch(/have no assignments/)
    expect(unsupportedReason('assign', config)).toBeNull()
    expect(actionsFor([getPolicyType('group')])).toEqual([])
    expect(actionsFor([getPolicyType('conditionalAccessPolicy')])).toEqual(['rename', 'duplicate', 'delete'])
    expect(unsupportedReason('duplicate', getPolicyType('mobileApp'))?.code).toBe('unsupported_type')
  })

  it('adds a group and keeps every other assignment; adding it again changes nothing', () => {
    const current = [group('a'), group('b', true), allDevices]
    const merged = mergeAssign(config, current, include('c'))!
    expect(merged).toHaveLength(4)
    expect(merged.slice(0, 3)).toEqual(current.map(({ id: _id, ...rest }) => rest))
    expect(merged[3]).toEqual({ target: { '@odata.type': '#microsoft.graph.groupAssignmentTarget', groupId: 'c' } })
    expect(mergeAssign(config, [...current, { id: 'x_c', ...merged[3]! }], include('c'))).toBeNull()
    // The same group with another intent or filter is replaced, not doubled.
    const excluded = mergeAssign(config, current, { ...include('a'), intent: 'exclude' })!
    expect(excluded.filter((a) => (a.target as { groupId?: string }).groupId === 'a')).toEqual([
      { target: { '@odata.type': '#microsoft.graph.exclusionGroupAssignmentTarget', groupId: 'a' } },
    ])
    expect(mergeAssign(getPolicyType('mobileApp'), [], include('c'))![0]).toMatchObject({ intent: 'required' })
  })

  it('assigns All users or All devices (no group): kept once, every other assignment kept, only included', () => {
    const allUsers = { target: 'all_users', group_id: null, intent: 'include', filter_id: null, filter_mode: null }
    expect(canonicalParams('assign', { target: 'all_users', intent: 'include' })).toEqual({ params: allUsers })
    // A group's params are as they were: the same request is the same run.
    expect(canonicalParams('assign', { group_id: 'g', intent: 'include' })).toEqual({ params: include('g') })
    expect(canonicalParams('assign', { target: 'all_users', intent: 'exclude' })).toMatchObject({
      issues: [{ field: 'params.intent', message: 'must be include for All users' }],
    })
    expect(canonicalParams('assign', { target: 'all_users', group_id: 'g', intent: 'include' })).toMatchObject({
      issues: [{ field: 'params.group_id' }],
    })
    expect(canonicalParams('assign', { intent: 'include' })).toMatchObject({ issues: [{ field: 'params.group_id' }] })
    expect(canonicalParams('assign', { target: 'everyone', intent: 'include' })).toMatchObject({
      issues: [{ field: 'params.target' }],
    })
    const current = [group('a'), allDevices]
    const users = mergeAssign(config, current, allUsers as AssignParams)!
    expect(users).toEqual([
      ...current.map(({ id: _id, ...rest }) => rest),
      { target: { '@odata.type': '#microsoft.graph.allLicensedUsersAssignmentTarget' } },
    ])
    const devices = { ...allUsers, target: 'all_devices' } as AssignParams
    expect(mergeAssign(config, current, devices)).toBeNull()
    // With a filter, the All devices assignment is replaced (not doubled).
    const filtered = mergeAssign(config, current, { ...devices, filter_id: 'f', filter_mode: 'exclude' })!
    expect(filtered).toEqual([
      { target: group('a').target },
      {
        target: {
          '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget',
          deviceAndAppManagementAssignmentFilterId: 'f',
          deviceAndAppManagementAssignmentFilterType: 'exclude',
        },
      },
    ])
  })

  it('removes only the group’s assignment; a group not assigned is no change', () => {
    const current = [group('a'), group('b', true), allDevices]
    expect(mergeUnassign(current, 'B')).toEqual([group('a'), allDevices].map(({ id: _id, ...rest }) => rest))
    expect(mergeUnassign(current, 'z')).toBeNull()
  })

  it('adds and removes scope tags; the last one removed leaves Default', () => {
    expect(mergeScopeTag({ roleScopeTagIds: ['0'] }, '5', true)).toEqual(['5'])
    expect(mergeScopeTag({ roleScopeTagIds: ['3'] }, '5', true)).toEqual(['3', '5'])
    expect(mergeScopeTag({ roleScopeTagIds: ['3', '5'] }, '5', true)).toBeNull()
    expect(mergeScopeTag({ roleScopeTagIds: ['3', '5'] }, '5', false)).toEqual(['3'])
    expect(mergeScopeTag({ roleScopeTagIds: ['5'] }, '5', false)).toEqual(['0'])
    expect(mergeScopeTag({ roleScopeTagIds: ['3'] }, '5', false)).toBeNull()
  })

  it('renames with find and replace, then prefix and suffix', () => {
    expect(renamed('Win - Old - Baseline Old', { prefix: 'EU ', suffix: ' v2', find: 'Old', replace: 'New' })).toBe(
      'EU Win - New - Baseline New v2',
    )
    expect(renamed('Keep', { prefix: '', suffix: '', find: 'x', replace: 'y' })).toBe('Keep')
  })

  it('validates params per action, naming the field', () => {
    expect(canonicalParams('assign', { group_id: 'g', intent: 'sideways' })).toMatchObject({
      issues: [{ field: 'params.intent' }],
    })
    expect(canonicalParams('assign', { group_id: 'g', intent: 'include', filter_mode: 'exclude' })).toMatchObject({
      issues: [{ field: 'params.filter_mode' }],
    })
    expect(canonicalParams('rename', {})).toMatchObject({ issues: [{ field: 'params' }] })
    expect(canonicalParams('rename', { replace: 'x' })).toMatchObject({ issues: [{ field: 'params.find' }] })
    expect(canonicalParams('delete', {})).toMatchObject({ issues: [{ field: 'params.confirm_count' }] })
    expect(canonicalParams('duplicate', {})).toEqual({ params: { name_suffix: ' (copy)', with_assignments: true } })
    expect(canonicalParams('unassign', { group_id: 'g', extra: 1 })).toMatchObject({ issues: [{ field: 'params' }] })
  })

  it('plans each item: a change with its summary, or a skip with the reason', () => {
    const source = {
      id: 'i',
      policyType: 'deviceConfiguration',
      externalId: 'e',
      displayName: 'Baseline',
      removed: false,
      assignments: [group('a')],
      scopeTagIds: ['0'],
    }
    expect(planItem('assign', include('b'), source)).toMatchObject({
      action: 'change',
      summary: 'Includes the group; keeps 1 other assignment',
    })
    expect(planItem('assign', include('a'), source)).toMatchObject({ action: 'skip', code: 'unchanged' })
    expect(planItem('assign', include('b'), { ...source, removed: true })).toMatchObject({
      action: 'skip',
      code: 'removed',
    })
    expect(planItem('assign', include('b'), { ...source, policyType: 'assignmentFilter' })).toMatchObject({
      action: 'skip',
      code: 'unsupported_type',
      reason: 'Assignment filters have no assignments',
    })
    expect(planItem('rename', { prefix: 'EU ', suffix: '', find: '', replace: '' }, source)).toMatchObject({
      action: 'change',
      new_name: 'EU Baseline',
    })
    expect(planItem('rename', { prefix: '', suffix: '', find: 'Baseline', replace: '' }, source)).toMatchObject({
      action: 'skip',
      code: 'invalid_name',
    })
    expect(planItem('add_scope_tag', { scope_tag_id: '0' }, source)).toMatchObject({
      action: 'skip',
      code: 'unchanged',
    })
    expect(planItem('duplicate', { name_suffix: ' (copy)', with_assignments: false }, source)).toMatchObject({
      action: 'change',
      new_name: 'Baseline (copy)',
    })
  })
})
