import type { Responses, Schemas } from './api-types.ts'

/**
 * The API's JSON shapes as the console reads them: named views of the types generated from the
 * server's OpenAPI document (api-types.ts, `npm run api:types`), never copied by hand.
 */

export type Me = Responses['GET /api/me']
export type MeTenant = Me['tenants'][number]
export type Capability = MeTenant['capabilities'][number]
export type Role = MeTenant['role']
export const ROLES: readonly Role[] = ['owner', 'manager', 'operator', 'readonly']

export type Page<T> = { data: T[]; next_cursor: string | null }

export type Run = Schemas['OperationRun']
export type RunStatus = Run['status']
export type RunOutcome = NonNullable<Run['outcome']>
export type SummaryCounts = Run['summary_counts']
export type RunFailure = Run['failures'][number]
export type RunUnit = Run['units'][number]
export type RunItem = Schemas['OperationRunItem']
export type RunItemStatus = RunItem['status']
export type OperationType = Schemas['OperationType']
export type Schedule = Schemas['Schedule']

/** The console's selection (the sync's `mode` is not chosen in the console yet). */
export type Selection = Required<Schemas['InventorySelection']>

export type Notification = Schemas['Notification']
export type NotificationPage = Responses['GET /api/notifications']

export type Tenant = Responses['GET /api/tenants']['data'][number]
export type Cloud = Tenant['cloud']
export const CLOUDS: readonly Cloud[] = ['global', 'usgov', 'usgovdod', 'china', 'emulator']

export type Member = Responses['GET /api/tenants/{tenantId}/members']['data'][number]

export type PolicyTypeCatalog = Responses['GET /api/tenants/{tenantId}/policy-types']
export type PolicyType = PolicyTypeCatalog['data'][number]

export type InventoryItem = Schemas['InventoryItem']
export type InventoryItemDetail = Schemas['InventoryItemDetail']
export type Assignment = InventoryItemDetail['assignments'][number]
export type InventoryVersion = Schemas['InventoryVersion']
export type InventoryDiff = Schemas['InventoryDiff']
export type DiffChange = InventoryDiff['changes'][number]
export type InventoryChange = Schemas['InventoryChange']
export type ChangeKind = InventoryChange['kind']
export type Reference = InventoryItemDetail['references'][number]

export type ConnectionCheck = Responses['POST /api/tenants/{tenantId}/connection-check']

export type AuditEvent = Responses['GET /api/tenants/{tenantId}/audit-events']['data'][number]

export type BackupSet = Schemas['BackupSet']
export type BackupItem = Schemas['BackupItem']
export type BackupItemDetail = Schemas['BackupItemDetail']

export type BulkAction = Schemas['BulkOperationRequest']['action']
export type BulkPlan = Schemas['BulkPlan']
export type BulkPlanItem = BulkPlan['items'][number]
export type BulkSelectionSummary = Schemas['BulkSelectionSummary']
export type BulkRunUndoState = Schemas['BulkRunUndoState']
export type RestorePlan = Schemas['RestorePlan']

export type OverviewRow = Schemas['OverviewRow']
export type Health = OverviewRow['health']
export type TenantGroup = Schemas['TenantGroup']
