import type { Role } from '../../db/schema.ts'
import { forbidden } from '../../lib/errors.ts'
import type { TokenScope } from './token-scope.ts'

/** The capability matrix (docs/api.md prints it by role), the only place that says who may do what in a tenant. */
export const CAPABILITIES = [
  'tenant.view',
  'inventory.sync',
  'operations.view',
  'operations.manage',
  'tenant.manage',
  'audit.view',
  'members.manage',
  'schedules.manage',
  'backups.manage',
  'restore.execute',
  'bulk.execute',
  'baselines.manage',
  'findings.manage',
  'findings.approve',
  // Alert rules limited to the tenant (owners; workspace admins manage channels and every rule: ADR 030).
  'alerts.manage',
] as const

export type Capability = (typeof CAPABILITIES)[number]

export const ROLES = ['owner', 'manager', 'operator', 'readonly'] as const satisfies readonly Role[]

const matrix: Record<Role, readonly Capability[]> = {
  owner: CAPABILITIES,
  manager: [
    'tenant.view',
    'inventory.sync',
    'operations.view',
    'operations.manage',
    'tenant.manage',
    'audit.view',
    'schedules.manage',
    'backups.manage',
    'restore.execute',
    'bulk.execute',
    'baselines.manage',
    'findings.manage',
  ],
  // operations.manage for an operator is limited to runs they started (see canManageRun).
  operator: [
    'tenant.view',
    'inventory.sync',
    'operations.view',
    'operations.manage',
    'backups.manage',
    'findings.manage',
  ],
  readonly: ['tenant.view'],
}

export const capabilitiesOf = (role: Role): Capability[] => [...matrix[role]]

export const can = (role: Role, capability: Capability): boolean => matrix[role].includes(capability)

/**
 * A tenant membership as the HTTP layer resolved it: the caller's role in one tenant, and the scope
 * of the token they came with (absent: a session or the system, which have the role's full rights).
 */
export type TenantAccess = {
  tenantId: string
  userId: string
  role: Role
  scope?: TokenScope
  /** How recently the caller proved who they are, for destructive actions (authority.ts); absent: the system. */
  freshness?: Freshness
}

/** Destructive actions need a recent sign-in (ADR 028): at most `maxAgeMinutes` old, or carrying the `acrs` context. */
export type StepUpPolicy = { maxAgeMinutes: number; acrs: string | undefined }

export type Freshness = {
  via: 'session' | 'token'
  authTime: Date | null
  acrs: string[]
  /** The session came from a Microsoft sign-in (the console sends the person back through it). */
  entra: boolean
  /** null: step-up is off (no Entra sign-in configured). */
  policy: StepUpPolicy | null
}

export function authorize(access: TenantAccess, capability: Capability): void {
  if (!can(access.role, capability)) throw forbidden(`Your role (${access.role}) does not allow ${capability}`)
}

/** Cancel / re-run: owners and managers for any run, operators only for their own. */
export const canManageRun = (access: TenantAccess, run: { initiatorUserId: string | null }): boolean =>
  can(access.role, 'operations.manage') && (access.role !== 'operator' || run.initiatorUserId === access.userId)
