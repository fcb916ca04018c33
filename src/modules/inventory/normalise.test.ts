import { describe, expect, it } from 'vitest'
import { getPolicyType } from '../../graph/policy-types.ts'
import { normaliseRead, platformOf } from './normalise.ts'

const entry = getPolicyType('deviceConfiguration')
const item = {
  id: 'a1',
  '@odata.type': '#microsoft.graph.windows10GeneralConfiguration',
  displayName: 'Baseline',
  lastModifiedDateTime: '2026-01-01T00:00:00Z',
  roleScopeTagIds: ['0', '3', '1'],
  'assignments@odata.context': 'https://graph/…',
  nested: { b: 1, a: [3, 1, 2] },
}
const assignments = [
  {
    id: 'x',
    target: {
      '@odata.type': '#microsoft.graph.groupAssignmentTarget',
      groupId: 'g2',
      deviceAndAppManagementAssignmentFilterId: 'f1',
    },
  },
  { id: 'y', target: { '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget' } },
]

describe('inventory normalisation', () => {
  it('hashes the same object the same, whatever the key and array order and the volatile fields', () => {
    const a = normaliseRead(entry, { item, assignments, details: {} })
    const reordered = {
      nested: { a: [2, 3, 1], b: 1 },
      roleScopeTagIds: ['1', '0', '3'],
      displayName: 'Baseline',
      id: 'a1',
      '@odata.type': item['@odata.type'],
      lastModifiedDateTime: '2026-06-01T00:00:00Z',
    }
    const b = normaliseRead(entry, { item: reordered, assignments: [...assignments].reverse(), details: {} })
    expect(b.contentHash).toBe(a.contentHash)
    expect(a.payload.lastModifiedDateTime).toBeUndefined()
    expect(a.payload['assignments@odata.context']).toBeUndefined()
    expect(a.payload['@odata.type']).toBe(item['@odata.type'])
    expect(a.graphLastModifiedAt).toBe('2026-01-01T00:00:00Z')
  })

  it('drops NUL characters, which PostgreSQL cannot store, and keeps nested fields named assignments', () => {
    const n = normaliseRead(entry, {
      item: { ...item, description: 'a\u0000b', nested: { assignments: [1] } },
      assignments,
      details: {},
    })
    expect(n.payload.description).toBe('ab')
    expect(n.payload.nested).toEqual({ assignments: [1] })
    expect(n.payload.assignments).toBeUndefined()
  })

  it('changes the hash when content or assignments change', () => {
    const a = normaliseRead(entry, { item, assignments, details: {} })
    expect(
      normaliseRead(entry, { item: { ...item, displayName: 'Other' }, assignments, details: {} }).contentHash,
    ).not.toBe(a.contentHash)
    expect(normaliseRead(entry, { item, assignments: assignments.slice(1), details: {} }).contentHash).not.toBe(
      a.contentHash,
    )
  })

  it('finds the groups, filters and scope tags an item points at (not the built-in tag 0)', () => {
    const { references } = normaliseRead(entry, { item, assignments, details: {} })
    expect(references).toEqual(
      expect.arrayContaining([
        { kind: 'group', targetType: 'group', targetExternalId: 'g2' },
        { kind: 'foundation', targetType: 'assignmentFilter', targetExternalId: 'f1' },
        { kind: 'foundation', targetType: 'roleScopeTag', targetExternalId: '1' },
        { kind: 'foundation', targetType: 'roleScopeTag', targetExternalId: '3' },
      ]),
    )
    expect(references).toHaveLength(4)
  })

  it('derives the platform from the object, else from the type', () => {
    expect(platformOf(entry, { '@odata.type': '#microsoft.graph.iosGeneralDeviceConfiguration' })).toBe('iOS')
    expect(platformOf(entry, { '@odata.type': '#microsoft.graph.androidWorkProfileGeneralDeviceConfiguration' })).toBe(
      'android',
    )
    expect(platformOf(entry, { '@odata.type': '#microsoft.graph.windowsKioskConfiguration' })).toBe('windows')
    expect(platformOf(getPolicyType('mobileApp'), { '@odata.type': '#microsoft.graph.managedIOSStoreApp' })).toBe('iOS')
    expect(platformOf(getPolicyType('settingsCatalogPolicy'), { platforms: 'macOS' })).toBe('macOS')
    expect(platformOf(getPolicyType('deviceManagementScript'), {})).toBe('windows')
    expect(platformOf(getPolicyType('roleScopeTag'), {})).toBe('all')
  })
})
