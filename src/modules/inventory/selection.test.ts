import { describe, expect, it } from 'vitest'
import { POLICY_TYPES, policyTypesOfKind } from '../../graph/policy-types.ts'
import { canonicalSelection, emptySelectionReason, selectionInput, unitsOf } from './selection.ts'

describe('inventory selection', () => {
  it('defaults to the full inventory: every type, foundations, then the groups unit last', () => {
    const full = canonicalSelection(undefined)
    expect(full).toEqual({
      policy_types: [],
      categories: [],
      include_foundations: true,
      include_dependencies: true,
      mode: 'full',
    })
    const units = unitsOf(full)
    expect(units.map((u) => u.key)).toEqual(
      [...policyTypesOfKind('policy'), ...policyTypesOfKind('foundation'), ...policyTypesOfKind('dependency')].map(
        (e) => e.key,
      ),
    )
    expect(units).toHaveLength(POLICY_TYPES.length)
    expect(canonicalSelection({})).toEqual(full)
  })

  it('sorts and deduplicates, and treats a list naming everything as "all"', () => {
    expect(
      canonicalSelection({ policy_types: ['mobileApp', 'deviceConfiguration', 'mobileApp'] }).policy_types,
    ).toEqual(['deviceConfiguration', 'mobileApp'])
    expect(
      canonicalSelection({
        policy_types: policyTypesOfKind('policy')
          .map((e) => e.key)
          .reverse(),
      }).policy_types,
    ).toEqual([])
    expect(canonicalSelection({ categories: ['Scripts', 'Apps', 'Scripts'] }).categories).toEqual(['Apps', 'Scripts'])
  })

  it('narrows policy types by category and switches foundations and groups by their flags', () => {
    const units = unitsOf(
      canonicalSelection({ categories: ['Scripts'], include_foundations: false, include_dependencies: false }),
    )
    expect(units.length).toBeGreaterThan(1)
    expect(units.every((u) => u.category === 'Scripts')).toBe(true)
    const both = unitsOf(
      canonicalSelection({
        policy_types: ['deviceConfiguration', 'mobileApp'],
        categories: ['Apps'],
        include_foundations: false,
        include_dependencies: false,
      }),
    )
    expect(both.map((u) => u.key)).toEqual(['mobileApp'])
    expect(
      emptySelectionReason(
        canonicalSelection({
          policy_types: ['deviceConfiguration'],
          categories: ['Apps'],
          include_foundations: false,
          include_dependencies: false,
        }),
      ),
    ).toMatch(/reads nothing/)
    expect(
      emptySelectionReason(canonicalSelection({ policy_types: ['deviceConfiguration'], categories: ['Apps'] })),
    ).toBeNull()
  })

  it('names unknown keys, types and categories', () => {
    const result = selectionInput.safeParse({
      policy_types: ['deviceConfiguration', 'nope', 'nope'],
      categories: ['Foundations'],
      extra: 1,
    })
    expect(result.success).toBe(false)
    const messages = result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n')
    expect(messages).toMatch(/policy_types: unknown policy type: nope;/)
    expect(messages).toMatch(/categories: unknown category: Foundations/)
    expect(result.error!.issues.some((i) => i.code === 'unrecognized_keys' && i.keys.includes('extra'))).toBe(true)
    expect(selectionInput.safeParse({ include_foundations: 'yes' }).success).toBe(false)
    expect(selectionInput.safeParse({ mode: 'fast' }).error!.issues[0]!.message).toBe('must be full or quick')
    expect(canonicalSelection({ mode: 'quick' }).mode).toBe('quick')
  })
})
