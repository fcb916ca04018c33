import { describe, expect, it } from 'vitest'
import { tenantPayload, validateTenantForm } from './tenant-form.ts'

const valid = {
  name: 'Contoso',
  entra_tenant_id: '8f2a1c3e-1234-4cde-9abc-0123456789ab',
  client_id: '11111111-2222-4333-8444-555555555555',
  client_secret: 's3cret',
  cloud: 'global' as const,
}

describe('tenant form', () => {
  it('accepts a complete form', () => {
    expect(validateTenantForm(valid, 'add')).toEqual({})
  })

  it('names every bad field', () => {
    expect(
      Object.keys(
        validateTenantForm(
          { ...valid, name: ' ', entra_tenant_id: 'contoso.onmicrosoft.com', client_id: '123', client_secret: '' },
          'add',
        ),
      ).sort(),
    ).toEqual(['client_id', 'client_secret', 'entra_tenant_id', 'name'])
  })

  it('keeps the stored secret when editing with an empty one', () => {
    expect(validateTenantForm({ ...valid, client_secret: '' }, 'edit')).toEqual({})
    expect(tenantPayload({ ...valid, client_secret: '' }, { ...valid, client_secret: '' })).toEqual({})
  })

  it('sends only what changed when editing, and the secret only when typed', () => {
    expect(
      tenantPayload({ ...valid, name: ' Fabrikam ', client_secret: 'new' }, { ...valid, client_secret: '' }),
    ).toEqual({ name: 'Fabrikam', client_secret: 'new' })
  })

  it('sends everything, trimmed, when adding', () => {
    expect(tenantPayload({ ...valid, name: ' Contoso ' })).toEqual({ ...valid, name: 'Contoso' })
  })
})
