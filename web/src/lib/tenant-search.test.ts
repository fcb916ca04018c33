import { describe, expect, it } from 'vitest'
import { groupNamesByTenant, matchesTenant } from './tenant-search.ts'

describe('tenant search', () => {
  const groupsOf = groupNamesByTenant([
    { name: 'EMEA customers', tenant_ids: ['a', 'b'] },
    { name: 'Pilot', tenant_ids: ['b'] },
  ])
  const contoso = { value: 'a', label: 'Contoso' }
  const fabrikam = { value: 'b', label: 'Fabrikam' }
  const tailspin = { value: 'c', label: 'Tailspin' }

  it('names each tenant’s groups', () => {
    expect(groupsOf.get('b')).toEqual(['EMEA customers', 'Pilot'])
    expect(groupsOf.has('c')).toBe(false)
  })

  it('finds a tenant by its name or by a group’s name, case ignored; an empty search finds all', () => {
    expect([contoso, fabrikam, tailspin].filter((o) => matchesTenant(o, 'fab', groupsOf))).toEqual([fabrikam])
    expect([contoso, fabrikam, tailspin].filter((o) => matchesTenant(o, 'emea', groupsOf))).toEqual([contoso, fabrikam])
    expect([contoso, fabrikam, tailspin].filter((o) => matchesTenant(o, ' PILOT ', groupsOf))).toEqual([fabrikam])
    expect([contoso, fabrikam, tailspin].filter((o) => matchesTenant(o, '', groupsOf))).toHaveLength(3)
    expect([contoso, fabrikam, tailspin].filter((o) => matchesTenant(o, 'nothing', groupsOf))).toEqual([])
  })
})
