import { describe, expect, it } from 'vitest'
import { isConsolePath } from '../../app/routes.tsx'
import { safeNext } from './login-page.tsx'

describe('safeNext (where sign-in sends the user)', () => {
  it('refuses crafted paths that a browser would read as another origin, or that no page has', () => {
    for (const next of [
      '/%5Cevil.example/x',
      '/%09/evil.example',
      '/\\evil.example/x',
      '/\tevil.example',
      '//evil.example/x',
      '/%2F/evil.example',
      'https://evil.example/t/x',
      'javascript:alert(1)',
      '/login?next=/t/a',
      '/nothing-here',
      '/t/a/nothing-here',
      '',
      null,
    ]) {
      expect(safeNext(next, isConsolePath), String(next)).toBe('/')
    }
  })

  it('keeps the console’s own pages, with their query', () => {
    expect(safeNext('/t/0195f3c2-0000-7000-8000-000000000000/inventory?type=deviceConfiguration', isConsolePath)).toBe(
      '/t/0195f3c2-0000-7000-8000-000000000000/inventory?type=deviceConfiguration',
    )
    expect(safeNext('/t/abc/operations/r1', isConsolePath)).toBe('/t/abc/operations/r1')
    expect(safeNext('/admin/tenants', isConsolePath)).toBe('/admin/tenants')
  })
})
