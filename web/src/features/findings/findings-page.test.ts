import { describe, expect, it } from 'vitest'
import type { Schemas } from '../../lib/api-types.ts'
import { causedByLabel, readableValue } from './findings-page.tsx'

const finding = (changed_by: Record<string, unknown> | null) =>
  ({ caused_by: { version_id: 'v1', changed_by } }) as unknown as Schemas['Finding']

describe('findings page values', () => {
  it('shows values as people read them', () => {
    expect(readableValue(null)).toBe('—')
    expect(readableValue(undefined)).toBe('—')
    expect(readableValue('')).toBe('""')
    expect(readableValue('Block')).toBe('Block')
    expect(readableValue(false)).toBe('false')
    expect(readableValue(8)).toBe('8')
    expect(readableValue({ a: [1, 2] })).toBe('{"a":[1,2]}')
  })

  it('names the actor the version recorded, or nobody', () => {
    expect(causedByLabel(finding({ user_principal_name: 'megan@x', activity: 'Patch' }))).toBe('megan@x')
    expect(causedByLabel(finding({ app_name: 'Intune PowerShell' }))).toBe('Intune PowerShell')
    expect(causedByLabel(finding(null))).toBeNull()
    expect(causedByLabel(finding({ id: 42 }))).toBeNull()
  })
})
