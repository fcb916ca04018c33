import type { Cloud } from '../../lib/types.ts'
import type { TenantInput } from './api.ts'

export type TenantFormValues = {
  name: string
  entra_tenant_id: string
  client_id: string
  client_secret: string
  cloud: Cloud
}
export type TenantFormErrors = Partial<Record<keyof TenantFormValues, string>>

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The same rules as the API (which stays the authority): a name, two GUIDs, and a secret that
 * is required when adding and optional when editing (empty = keep the stored one).
 */
export function validateTenantForm(values: TenantFormValues, mode: 'add' | 'edit'): TenantFormErrors {
  const errors: TenantFormErrors = {}
  if (!values.name.trim()) errors.name = 'Enter a name'
  else if (values.name.trim().length > 200) errors.name = 'At most 200 characters'
  if (!GUID.test(values.entra_tenant_id.trim()))
    errors.entra_tenant_id = 'The Entra tenant id is a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)'
  if (!GUID.test(values.client_id.trim())) errors.client_id = "The app registration's client id is a GUID"
  if (mode === 'add' && !values.client_secret) errors.client_secret = 'Enter the client secret'
  return errors
}

/** What to send: trimmed; when editing, only the fields that changed, and the secret only if typed. */
export function tenantPayload(values: TenantFormValues, original?: Partial<TenantFormValues>): Partial<TenantInput> {
  const trimmed = {
    name: values.name.trim(),
    entra_tenant_id: values.entra_tenant_id.trim(),
    client_id: values.client_id.trim(),
    cloud: values.cloud,
  }
  if (!original) return { ...trimmed, client_secret: values.client_secret }
  const out: Partial<TenantInput> = {}
  for (const key of ['name', 'entra_tenant_id', 'client_id', 'cloud'] as const) {
    if (trimmed[key] !== original[key]) Object.assign(out, { [key]: trimmed[key] })
  }
  if (values.client_secret) out.client_secret = values.client_secret
  return out
}
