/** The API's JSON shapes (CONTRACT.md §2), as the console reads them. */

export type Capability =
  | 'tenant.view'
  | 'inventory.sync'
  | 'operations.view'
  | 'operations.manage'
  | 'tenant.manage'
  | 'audit.view'
  | 'members.manage'

export type Role = 'owner' | 'manager' | 'operator' | 'readonly'
export const ROLES: readonly Role[] = ['owner', 'manager', 'operator', 'readonly']

export type MeTenant = { id: string; name: string; role: Role; capabilities: Capability[] }
export type Me = { user: { id: string; email: string; name: string; is_admin: boolean }; tenants: MeTenant[] }

export type Page<T> = { data: T[]; next_cursor: string | null }

export type RunStatus = 'queued' | 'running' | 'completed'
export type RunOutcome = 'succeeded' | 'partially_succeeded' | 'failed' | 'cancelled'
export type SummaryCounts = Partial<Record<'total' | 'processed' | 'succeeded' | 'failed' | 'skipped' | 'created' | 'updated' | 'unchanged' | 'removed' | 'warnings', number>> &
  Record<string, number | undefined>

export type RunFailure = { code: string; message: string; subject: string | null }
export type RunUnit = {
  key: string
  status: 'succeeded' | 'failed' | 'skipped'
  counts: Record<string, number>
  duration_ms: number
  error: { code: string; message: string } | null
}

export type Run = {
  id: string
  tenant_id: string
  type: string
  type_label: string
  status: RunStatus
  status_label: string
  outcome: RunOutcome | null
  cancel_requested: boolean
  initiator: { id: string; name: string } | null
  context: Record<string, unknown>
  summary_counts: SummaryCounts
  failures: RunFailure[]
  units: RunUnit[]
  attempt: number
  created_at: string
  started_at: string | null
  completed_at: string | null
  links: { self: string; view: string }
}

export type Selection = {
  policy_types: string[]
  categories: string[]
  include_foundations: boolean
  include_dependencies: boolean
}

export type Notification = {
  id: string
  kind: string
  title: string
  body: string
  run_id: string | null
  tenant_id?: string | null
  url: string
  read_at: string | null
  created_at: string
}
export type NotificationPage = Page<Notification> & { unread_count: number }

export type Cloud = 'global' | 'usgov' | 'usgovdod' | 'china' | 'emulator'
export const CLOUDS: readonly Cloud[] = ['global', 'usgov', 'usgovdod', 'china', 'emulator']

export type Tenant = {
  id: string
  name: string
  entra_tenant_id: string
  client_id: string
  cloud: Cloud
  has_client_secret: boolean
  role: Role | null
  capabilities: Capability[]
  created_at: string
  updated_at: string
}

export type Member = { user_id: string; email: string; name: string; role: Role; created_at: string }

export type PolicyType = {
  key: string
  label: string
  kind: 'policy' | 'foundation' | 'dependency'
  category: string
  platforms: string[]
  permission: string
}
export type PolicyTypeCatalog = { data: PolicyType[]; categories: string[] }

export type InventoryItem = {
  id: string
  tenant_id: string
  policy_type: string
  policy_type_label: string
  kind: string
  external_id: string
  display_name: string
  category: string
  platform: string | null
  last_modified_at: string | null
  first_seen_run_id: string | null
  last_seen_run_id: string | null
  removed_at: string | null
  updated_at: string
}

export type Assignment = {
  intent: string | null
  target_type: string
  group_id: string | null
  group_name: string | null
  orphaned: boolean
  filter_id: string | null
  filter_name: string | null
  filter_type: string | null
}

export type Reference = {
  kind: string
  target_type: string
  target_external_id: string
  target_item_id: string | null
  display_name: string | null
  orphaned: boolean
}

export type InventoryItemDetail = InventoryItem & {
  payload: Record<string, unknown>
  content_hash: string
  assignments: Assignment[]
  references: Reference[]
}

export type ConnectionCheck = {
  ok: boolean
  error: { code: string; message: string } | null
  permissions: { permission: string; status: 'granted' | 'missing' | 'unknown'; blocks: { key: string; label: string }[] }[]
}

export type AuditEvent = {
  id: string
  tenant_id: string | null
  action: string
  actor: { kind: string; id: string | null; name: string | null; email: string | null }
  subject: { type: string; id: string } | null
  metadata: Record<string, unknown>
  ip: string | null
  created_at: string
}
