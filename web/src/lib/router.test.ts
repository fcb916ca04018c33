import { describe, expect, it } from 'vitest'
import { matchPath } from './router.tsx'

describe('matchPath', () => {
  it('extracts parameters', () => {
    expect(matchPath('/t/:tenantId/operations/:runId', '/t/abc/operations/r%201')).toEqual({ tenantId: 'abc', runId: 'r 1' })
  })
  it('ignores a trailing slash and rejects other shapes', () => {
    expect(matchPath('/t/:tenantId', '/t/abc/')).toEqual({ tenantId: 'abc' })
    expect(matchPath('/t/:tenantId', '/t/abc/inventory')).toBeNull()
    expect(matchPath('/t/:tenantId/audit', '/t/abc/inventory')).toBeNull()
  })
})
