import { describe, expect, it } from 'vitest'
import { matchPath, withParams } from './router.tsx'

describe('matchPath', () => {
  it('extracts parameters', () => {
    expect(matchPath('/t/:tenantId/operations/:runId', '/t/abc/operations/r%201')).toEqual({
      tenantId: 'abc',
      runId: 'r 1',
    })
  })
  it('ignores a trailing slash and rejects other shapes', () => {
    expect(matchPath('/t/:tenantId', '/t/abc/')).toEqual({ tenantId: 'abc' })
    expect(matchPath('/t/:tenantId', '/t/abc/inventory')).toBeNull()
    expect(matchPath('/t/:tenantId/audit', '/t/abc/inventory')).toBeNull()
  })
})

describe('withParams', () => {
  it('sets, replaces and removes query parameters', () => {
    expect(withParams('/t/a/inventory', '', { type: 'x' })).toBe('/t/a/inventory?type=x')
    expect(withParams('/t/a/inventory', '?type=x&q=win', { type: null, removed: '1' })).toBe(
      '/t/a/inventory?q=win&removed=1',
    )
    expect(withParams('/t/a/inventory', '?q=win', { q: '' })).toBe('/t/a/inventory')
  })
})
