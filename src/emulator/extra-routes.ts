import { getPolicyType } from '../graph/policy-types.ts'
import type { EmulatedTenant, TenantObject } from './emulated-tenant.ts'
import { forbidden, graphError, hasPermission, ok, select, type GraphResponse } from './graph-routes.ts'
import { matches, parseFilter, parseSelect, type FilterNode } from './odata.ts'
import { configurationSettingResource } from './setting-definitions.ts'
import { parseRoleAssignmentId } from './shapes.ts'

/**
 * Graph resources the catalog does not list but clients read beside it: the intent templates
 * and their categories, role assignments by id, and device collections
 * (a tenant without enrolled devices: empty lists, as Graph answers).
 */

const CONFIG = 'DeviceManagementConfiguration.Read.All'
const SERVICE = 'DeviceManagementServiceConfig.Read.All'
const RBAC = 'DeviceManagementRBAC.Read.All'
const DEVICES = 'DeviceManagementManagedDevices.Read.All'

/** The templates the generator's intents use (shapes.ts `endpointSecurityIntent`). */
export const INTENT_TEMPLATES = [
  {
    id: '034ccd46-190c-4afc-adf1-ad7cc11262eb',
    displayName: 'MDM Security Baseline for Windows 10 and later',
    templateType: 'securityBaseline',
    templateSubtype: 'none',
    platformType: 'windows10AndLater',
  },
  {
    id: 'cef15778-c3b9-4d53-a00a-042929f0aad0',
    displayName: 'Microsoft Defender for Endpoint baseline',
    templateType: 'advancedThreatProtectionSecurityBaseline',
    templateSubtype: 'none',
    platformType: 'windows10AndLater',
  },
  {
    id: 'a8d6fa0e-1e66-455b-bb51-8ce0dde1559e',
    displayName: 'Microsoft Edge baseline',
    templateType: 'microsoftEdgeSecurityBaseline',
    templateSubtype: 'none',
    platformType: 'windows10AndLater',
  },
].map((t) => ({
  '@odata.type': '#microsoft.graph.securityBaselineTemplate',
  ...t,
  description: `${t.displayName} (emulated)`,
  versionInfo: 'Version 1',
  isDeprecated: false,
  intentCount: 0,
  publishedDateTime: '2023-01-01T00:00:00Z',
}))

const CATEGORY_NAMES = ['Device lock', 'Firewall', 'Defender'] as const
const categoryId = (templateId: string, n: number) => `${templateId.slice(0, 24)}${String(n + 1).padStart(12, '0')}`
const categoriesOf = (templateId: string) =>
  CATEGORY_NAMES.map((displayName, n) => ({ id: categoryId(templateId, n), displayName, hasRequiredSetting: n === 0 }))

/** Device collections of a tenant without enrolled devices. */
const EMPTY_COLLECTIONS: Record<string, string> = {
  'deviceManagement/managedDevices': DEVICES,
  'deviceManagement/windowsAutopilotDeviceIdentities': SERVICE,
}

function collection(
  values: readonly Record<string, unknown>[],
  q: Map<string, string>,
  contextUrl: string,
): GraphResponse {
  let filter: FilterNode | null = null
  const text = q.get('filter')
  if (text !== undefined) {
    try {
      filter = parseFilter(text)
    } catch (error) {
      return graphError(400, 'BadRequest', `Invalid filter clause: ${(error as Error).message}`, 'list')
    }
  }
  const fields = parseSelect(q.get('select'))
  const value = values.filter((v) => matches(filter, v)).map((v) => select(v, fields))
  return ok({ '@odata.context': contextUrl, value }, 'list')
}

const notFound = (what: string, id: string) =>
  graphError(404, 'ResourceNotFound', `No ${what} with id '${id}'`, 'object')

/** A GET of a resource outside the catalog's collections, or undefined when Graph has none there either. */
export function extraResource(
  tenant: EmulatedTenant,
  rest: string[],
  q: Map<string, string>,
  context: string,
): GraphResponse | undefined {
  const path = rest.join('/')
  const empty = EMPTY_COLLECTIONS[rest.slice(0, 2).join('/')]
  if (empty) {
    if (!hasPermission(tenant, empty)) return forbidden(empty, 'list')
    return rest.length === 2 ? collection([], q, `${context}${path}`) : notFound(rest[1]!, rest[2]!)
  }
  if (rest[0] !== 'deviceManagement') return undefined
  if (rest[1] === 'configurationSettings') return configurationSettingResource(tenant, rest, context)
  if (rest[1] === 'templates') {
    if (!hasPermission(tenant, CONFIG)) return forbidden(CONFIG, 'list')
    if (rest.length === 2) return collection(INTENT_TEMPLATES, q, `${context}deviceManagement/templates`)
    const template = INTENT_TEMPLATES.find((t) => t.id === rest[2])
    if (!template) return notFound('template', rest[2]!)
    const templateContext = `${context}deviceManagement/templates('${template.id}')`
    if (rest.length === 3)
      return ok({ '@odata.context': `${context}deviceManagement/templates/$entity`, ...template }, 'object')
    if (rest[3] !== 'categories')
      return graphError(400, 'BadRequest', `Resource not found for the segment '${rest[3]}'.`, 'subresource')
    if (rest.length === 4) return collection(categoriesOf(template.id), q, `${templateContext}/categories`)
    const category = categoriesOf(template.id).find((c) => c.id === rest[4])
    if (!category) return notFound('category', rest[4]!)
    return rest.length === 5
      ? ok({ '@odata.context': `${templateContext}/categories/$entity`, ...category }, 'object')
      : undefined
  }
  if (rest[1] === 'roleAssignments') {
    if (!hasPermission(tenant, RBAC)) return forbidden(RBAC, 'list')
    const roles = getPolicyType('roleDefinition')
    if (rest.length === 2) {
      const all: Record<string, unknown>[] = []
      let position: [number, number] | null = [0, 0]
      while (position) {
        const page = tenant.page([roles], { excludeBuiltIns: false, position, size: 500 })
        for (const role of page.items) all.push(...role.children('roleAssignments'))
        position = page.next
      }
      return collection(all, q, `${context}deviceManagement/roleAssignments`)
    }
    const parsed = parseRoleAssignmentId(rest[2]!)
    const role = parsed ? tenant.find([roles], parsed.roleDefinitionId) : undefined
    const assignment = role?.children('roleAssignments').find((a) => a.id === rest[2])
    if (!assignment || rest.length > 3) return notFound('roleAssignment', rest[2]!)
    return ok(
      {
        '@odata.context': `${context}deviceManagement/roleAssignments/$entity`,
        '@odata.type': '#microsoft.graph.deviceAndAppManagementRoleAssignment',
        ...assignment,
      },
      'object',
    )
  }
  return undefined
}

/**
 * `intents/{id}/categories[/{c}[/settings]]`: an intent's settings grouped by its template's
 * categories (https://learn.microsoft.com/graph/api/intune-deviceintent-devicemanagementintentsettingcategory-list).
 */
export function intentCategories(
  intent: TenantObject,
  path: string[],
  q: Map<string, string>,
  intentContext: string,
): GraphResponse {
  const templateId = String(intent.body.templateId)
  const categories = categoriesOf(templateId)
  if (path.length === 0) return collection(categories, q, `${intentContext}/categories`)
  const n = categories.findIndex((c) => c.id === path[0])
  if (n < 0) return notFound('category', path[0]!)
  if (path.length === 1)
    return ok({ '@odata.context': `${intentContext}/categories/$entity`, ...categories[n] }, 'object')
  if (path.length > 2 || path[1] !== 'settings')
    return graphError(400, 'BadRequest', `Resource not found for the segment '${path.at(-1)}'.`, 'subresource')
  const settings = intent.children('settings').filter((_, i) => i % categories.length === n)
  return collection(settings, q, `${intentContext}/categories('${path[0]}')/settings`)
}

/** The presentation a presentation value answers (`presentationValues?$expand=presentation`). */
export function presentationOf(value: Record<string, unknown>): Record<string, unknown> {
  return {
    '@odata.type': '#microsoft.graph.groupPolicyPresentationTextBox',
    id: `${String(value.id)}-presentation`,
    label: 'Value',
    required: false,
  }
}
