/**
 * The policy type catalog: every Intune object type TenantAtlas reads, and how Microsoft
 * Graph serves it. It is the single source of truth for the Graph client (what to request),
 * the inventory sync (what to store), the API and UI (labels, categories) and the emulator
 * (what to serve), so the emulator cannot drift from what the client expects.
 */

export type PolicyTypeKind = 'policy' | 'foundation' | 'dependency'
export type ApiVersion = 'v1.0' | 'beta'

/**
 * How an object's assignments are read:
 * - `expand`: `$expand=assignments` on the list, so they arrive with each page;
 * - `subresource`: `GET {path}/{id}/assignments`, one request per object (sent inside `$batch`);
 * - `batch`: `GET {itemPath}/{id}?$expand=assignments,…` per object inside `$batch`, because
 *   the list cannot expand them or omits content the object read returns.
 */
export type AssignmentStrategy = 'expand' | 'subresource' | 'batch'

export const CATEGORIES = [
  'Configuration',
  'Compliance',
  'Endpoint security',
  'Updates',
  'Scripts',
  'Enrollment',
  'Apps',
  'App protection',
  'Conditional access',
  'Foundations',
  'Dependencies',
] as const
export type Category = (typeof CATEGORIES)[number]

export type Platform = 'windows' | 'macOS' | 'iOS' | 'android' | 'linux' | 'all'

/** A Graph application permission the app registration must hold to read a type. */
export type GraphPermission =
  | 'DeviceManagementConfiguration.Read.All'
  | 'DeviceManagementApps.Read.All'
  | 'DeviceManagementServiceConfig.Read.All'
  | 'DeviceManagementRBAC.Read.All'
  | 'DeviceManagementScripts.Read.All'
  | 'DeviceManagementManagedDevices.Read.All'
  | 'Policy.Read.All'
  | 'Group.Read.All'

export const GRAPH_PERMISSIONS: readonly GraphPermission[] = [
  'DeviceManagementConfiguration.Read.All',
  'DeviceManagementApps.Read.All',
  'DeviceManagementServiceConfig.Read.All',
  'DeviceManagementRBAC.Read.All',
  'DeviceManagementScripts.Read.All',
  'DeviceManagementManagedDevices.Read.All',
  'Policy.Read.All',
  'Group.Read.All',
]

/**
 * The application permission a write of a type needs, by the permission its reads need
 * (Graph's documented least-privileged ReadWrite permission; conditional access policies are
 * written with Policy.ReadWrite.ConditionalAccess).
 */
export const GRAPH_WRITE_PERMISSIONS: Readonly<Record<GraphPermission, string>> = {
  'DeviceManagementConfiguration.Read.All': 'DeviceManagementConfiguration.ReadWrite.All',
  'DeviceManagementApps.Read.All': 'DeviceManagementApps.ReadWrite.All',
  'DeviceManagementServiceConfig.Read.All': 'DeviceManagementServiceConfig.ReadWrite.All',
  'DeviceManagementRBAC.Read.All': 'DeviceManagementRBAC.ReadWrite.All',
  'DeviceManagementScripts.Read.All': 'DeviceManagementScripts.ReadWrite.All',
  'DeviceManagementManagedDevices.Read.All': 'DeviceManagementManagedDevices.ReadWrite.All',
  'Policy.Read.All': 'Policy.ReadWrite.ConditionalAccess',
  'Group.Read.All': 'Group.ReadWrite.All',
}

/**
 * A read an object needs beyond the list: a navigation property fetched either as its own
 * (possibly paged) sub-collection `GET {path}/{id}/{name}`, expanded on the per-object read, or
 * expanded on the list itself (`list`: no request of its own, where Graph allows it).
 */
export type DetailRead = {
  name: string
  via: 'subresource' | 'expand' | 'list'
  /** Extra query for a sub-collection read (`$expand=definition,presentationValues`), or the nested options of a list `$expand`. */
  query?: string
  /** Server page size of the sub-collection when no `$top` is sent (Graph pages `/settings` at 25). */
  pageSize?: number
  /** The largest `$top` the server honours there (more is refused). */
  maxTop?: number
}

export type PolicyTypeEntry = {
  key: string
  label: string
  kind: PolicyTypeKind
  category: Category
  platforms: readonly Platform[]
  apiVersion: ApiVersion
  /** Collection path below the version, without a leading slash. */
  path: string
  /** The property holding the object's name (settings catalog policies use `name`). */
  nameProperty: 'displayName' | 'name' | 'tokenName' | 'appleIdentifier' | 'ownerUserPrincipalName'
  permission: GraphPermission
  /** null: the type has no assignments. */
  assignments: AssignmentStrategy | null
  details: readonly DetailRead[]
  /** False for dependencies that are only read by id (groups). */
  listable: boolean
  /** The server's page size; `$top` above it is capped (the 25-item quirk). */
  pageSize: number
  /** `$filter` sent with the list: several types share one collection, or the list needs the usual filter. */
  listFilter?: string
  /**
   * The resource has no lastModifiedDateTime (scope tags, roles): a quick sync cannot list it by
   * modification time and compares its listed objects with what is stored instead.
   */
  unstamped?: boolean
  /** Objects the sync skips although the list returns them (built-in scope tags, roles, scripts). */
  skip?: { property: string; equals: unknown; reason: string }
  /** Properties the list returns empty: the per-object read carries them. */
  listOmits?: readonly string[]
  /**
   * Some collections are read through a platform-specific collection chosen by the object's
   * `@odata.type` (app protection policies): type → collection path.
   */
  itemCollections?: Readonly<Record<string, string>>
  /** `$select` for a read by id (dependencies). */
  select?: readonly string[]
  /**
   * A singleton (`deviceManagement/applePushNotificationCertificate`): at most one object per
   * tenant, read with one GET of `path`. Its inventory identity is `id` whatever Graph puts in the
   * object's own `id` (some have none; there is only one anyway), and `name` is its display name
   * when `nameProperty` is empty. Graph answering 404, or an object without properties, means the
   * tenant has none: the sync removes it.
   */
  singleton?: { id: string; name: string }
  quirks: readonly string[]
}

const DEFAULT_PAGE = 100
const SETTINGS_PAGE = 25
/**
 * `/settings` pages at 25 unless asked for more: Graph honours `$top` there (IntuneCD #125 fixed its
 * truncated backups with `top=1000`; jseerden/IntuneBackupAndRestore #88 reads 300+ settings with
 * `top=999`), so one request reads a policy's settings instead of one per 25. `settingDefinitions` is
 * expanded for the readable diffs (the definitions are stored beside the inventory, not in the payload).
 */
const SETTINGS_TOP = 1000
const settings: DetailRead = {
  name: 'settings',
  via: 'subresource',
  pageSize: SETTINGS_PAGE,
  maxTop: SETTINGS_TOP,
  query: `$top=${SETTINGS_TOP}&$expand=settingDefinitions`,
}

function entry(
  e: Omit<PolicyTypeEntry, 'kind' | 'apiVersion' | 'nameProperty' | 'details' | 'listable' | 'pageSize' | 'quirks'> &
    Partial<PolicyTypeEntry>,
): PolicyTypeEntry {
  return {
    kind: 'policy',
    apiVersion: 'beta',
    nameProperty: 'displayName',
    details: [],
    listable: true,
    pageSize: DEFAULT_PAGE,
    quirks: [],
    ...e,
  }
}

const CONFIG = 'DeviceManagementConfiguration.Read.All'
const APPS = 'DeviceManagementApps.Read.All'
const SERVICE = 'DeviceManagementServiceConfig.Read.All'
const RBAC = 'DeviceManagementRBAC.Read.All'
const SCRIPTS = 'DeviceManagementScripts.Read.All'
const POLICY = 'Policy.Read.All'
const TARGETED_APP_CONFIG = '#microsoft.graph.targetedManagedAppConfiguration'
const UPDATE_RING = "isof('microsoft.graph.windowsUpdateForBusinessConfiguration')"

export const POLICY_TYPES: readonly PolicyTypeEntry[] = [
  entry({
    key: 'deviceConfiguration',
    label: 'Device configuration profiles',
    category: 'Configuration',
    platforms: ['windows', 'macOS', 'iOS', 'android'],
    path: 'deviceManagement/deviceConfigurations',
    permission: CONFIG,
    assignments: 'expand',
    listFilter: `not ${UPDATE_RING}`,
    quirks: ['Windows update rings live in the same collection and are filtered out'],
  }),
  entry({
    key: 'windowsUpdateRing',
    label: 'Windows update rings',
    category: 'Updates',
    platforms: ['windows'],
    path: 'deviceManagement/deviceConfigurations',
    permission: CONFIG,
    assignments: 'expand',
    listFilter: UPDATE_RING,
    quirks: ['windowsUpdateForBusinessConfiguration objects inside deviceConfigurations'],
  }),
  entry({
    key: 'settingsCatalogPolicy',
    label: 'Settings catalog policies',
    category: 'Configuration',
    platforms: ['windows', 'macOS', 'iOS', 'android', 'linux'],
    path: 'deviceManagement/configurationPolicies',
    nameProperty: 'name',
    permission: CONFIG,
    assignments: 'expand',
    details: [settings],
    pageSize: SETTINGS_PAGE,
    listFilter: "templateReference/templateFamily eq 'none'",
    quirks: [
      'the list is paged at 25 whatever $top asks; /settings at 25 unless $top asks for more',
      'objects have name, not displayName',
    ],
  }),
  entry({
    key: 'endpointSecurityPolicy',
    label: 'Endpoint security policies (settings catalog)',
    category: 'Endpoint security',
    platforms: ['windows', 'macOS', 'linux'],
    path: 'deviceManagement/configurationPolicies',
    nameProperty: 'name',
    permission: CONFIG,
    assignments: 'expand',
    details: [settings],
    pageSize: SETTINGS_PAGE,
    listFilter: "templateReference/templateFamily ne 'none'",
    quirks: ['configurationPolicies with an endpoint security template family', 'paged at 25'],
  }),
  entry({
    key: 'endpointSecurityIntent',
    label: 'Endpoint security policies (templates)',
    category: 'Endpoint security',
    platforms: ['windows', 'macOS'],
    path: 'deviceManagement/intents',
    permission: CONFIG,
    assignments: 'subresource',
    details: [{ name: 'settings', via: 'subresource' }],
    quirks: ['intents cannot $expand assignments'],
  }),
  entry({
    key: 'groupPolicyConfiguration',
    label: 'Administrative templates',
    category: 'Configuration',
    platforms: ['windows'],
    path: 'deviceManagement/groupPolicyConfigurations',
    permission: CONFIG,
    assignments: 'expand',
    details: [{ name: 'definitionValues', via: 'subresource', query: '$expand=definition,presentationValues' }],
    quirks: ['values need definitionValues with presentationValues'],
  }),
  entry({
    key: 'deviceCompliancePolicy',
    label: 'Compliance policies',
    category: 'Compliance',
    platforms: ['windows', 'macOS', 'iOS', 'android'],
    path: 'deviceManagement/deviceCompliancePolicies',
    permission: CONFIG,
    // Graph expands the rules on the list (IntuneCD reads them so in production), saving a request per policy.
    assignments: 'expand',
    details: [{ name: 'scheduledActionsForRule', via: 'list', query: '$expand=scheduledActionConfigurations' }],
  }),
  entry({
    key: 'compliancePolicy',
    label: 'Compliance policies (settings catalog)',
    category: 'Compliance',
    platforms: ['linux', 'windows'],
    path: 'deviceManagement/compliancePolicies',
    nameProperty: 'name',
    permission: CONFIG,
    assignments: 'expand',
    details: [
      settings,
      { name: 'scheduledActionsForRule', via: 'subresource', query: '$expand=scheduledActionConfigurations' },
    ],
    pageSize: SETTINGS_PAGE,
    quirks: ['paged at 25', 'objects have name', 'actions for noncompliance under scheduledActionsForRule'],
  }),
  entry({
    key: 'deviceManagementScript',
    label: 'PowerShell scripts',
    category: 'Scripts',
    platforms: ['windows'],
    path: 'deviceManagement/deviceManagementScripts',
    permission: SCRIPTS,
    assignments: 'batch',
    listOmits: ['scriptContent'],
    quirks: ['list omits scriptContent: read each script'],
  }),
  entry({
    key: 'deviceHealthScript',
    label: 'Remediations',
    category: 'Scripts',
    platforms: ['windows'],
    path: 'deviceManagement/deviceHealthScripts',
    permission: SCRIPTS,
    assignments: 'batch',
    listOmits: ['detectionScriptContent', 'remediationScriptContent'],
    skip: { property: 'isGlobalScript', equals: true, reason: 'Microsoft-published remediations' },
    quirks: ['list omits script content', 'Microsoft-published scripts are skipped'],
  }),
  entry({
    key: 'deviceShellScript',
    label: 'macOS shell scripts',
    category: 'Scripts',
    platforms: ['macOS'],
    path: 'deviceManagement/deviceShellScripts',
    permission: SCRIPTS,
    assignments: 'batch',
    listOmits: ['scriptContent'],
    quirks: ['list omits scriptContent'],
  }),
  entry({
    key: 'deviceCustomAttributeShellScript',
    label: 'macOS custom attributes',
    category: 'Scripts',
    platforms: ['macOS'],
    path: 'deviceManagement/deviceCustomAttributeShellScripts',
    permission: SCRIPTS,
    assignments: 'batch',
    listOmits: ['scriptContent'],
    quirks: ['list omits scriptContent'],
  }),
  entry({
    key: 'deviceComplianceScript',
    label: 'Compliance scripts',
    category: 'Scripts',
    platforms: ['windows'],
    path: 'deviceManagement/deviceComplianceScripts',
    permission: SCRIPTS,
    assignments: 'batch',
    listOmits: ['detectionScriptContent'],
    quirks: ['list omits detectionScriptContent'],
  }),
  entry({
    key: 'windowsAutopilotDeploymentProfile',
    label: 'Autopilot deployment profiles',
    category: 'Enrollment',
    platforms: ['windows'],
    path: 'deviceManagement/windowsAutopilotDeploymentProfiles',
    permission: SERVICE,
    assignments: 'subresource',
  }),
  entry({
    key: 'deviceEnrollmentConfiguration',
    label: 'Enrollment configurations',
    category: 'Enrollment',
    platforms: ['all'],
    path: 'deviceManagement/deviceEnrollmentConfigurations',
    permission: SERVICE,
    assignments: 'expand',
  }),
  entry({
    key: 'windowsFeatureUpdateProfile',
    label: 'Feature updates',
    category: 'Updates',
    platforms: ['windows'],
    path: 'deviceManagement/windowsFeatureUpdateProfiles',
    permission: CONFIG,
    assignments: 'subresource',
  }),
  entry({
    key: 'windowsQualityUpdateProfile',
    label: 'Quality updates',
    category: 'Updates',
    platforms: ['windows'],
    path: 'deviceManagement/windowsQualityUpdateProfiles',
    permission: CONFIG,
    assignments: 'subresource',
  }),
  entry({
    key: 'windowsDriverUpdateProfile',
    label: 'Driver updates',
    category: 'Updates',
    platforms: ['windows'],
    path: 'deviceManagement/windowsDriverUpdateProfiles',
    permission: CONFIG,
    assignments: 'subresource',
  }),
  entry({
    key: 'mobileApp',
    label: 'Apps',
    category: 'Apps',
    platforms: ['windows', 'macOS', 'iOS', 'android'],
    path: 'deviceAppManagement/mobileApps',
    permission: APPS,
    assignments: 'expand',
    listFilter:
      "(microsoft.graph.managedApp/appAvailability eq null or microsoft.graph.managedApp/appAvailability eq 'lineOfBusiness' or isAssigned eq true)",
    quirks: ['the usual filter leaves out unassigned built-in store apps'],
  }),
  entry({
    key: 'managedAppPolicy',
    label: 'App protection policies',
    category: 'App protection',
    platforms: ['iOS', 'android', 'windows'],
    path: 'deviceAppManagement/managedAppPolicies',
    permission: APPS,
    assignments: 'batch',
    details: [{ name: 'apps', via: 'expand' }],
    // Graph lists every managedAppPolicy-derived type here, targeted app configurations included;
    // those belong to targetedManagedAppConfiguration, which reads them from their own collection.
    skip: {
      property: '@odata.type',
      equals: TARGETED_APP_CONFIG,
      reason: 'app configurations (managed apps), mirrored by their own type',
    },
    itemCollections: {
      '#microsoft.graph.iosManagedAppProtection': 'deviceAppManagement/iosManagedAppProtections',
      '#microsoft.graph.androidManagedAppProtection': 'deviceAppManagement/androidManagedAppProtections',
      '#microsoft.graph.windowsManagedAppProtection': 'deviceAppManagement/windowsManagedAppProtections',
    },
    quirks: [
      'assignments only under the platform-specific collection',
      'the list includes targeted managed app configurations: skipped here',
    ],
  }),
  entry({
    key: 'targetedManagedAppConfiguration',
    label: 'App configuration (managed apps)',
    category: 'Apps',
    platforms: ['iOS', 'android'],
    path: 'deviceAppManagement/targetedManagedAppConfigurations',
    permission: APPS,
    assignments: 'batch',
    details: [{ name: 'apps', via: 'expand' }],
  }),
  entry({
    key: 'mobileAppConfiguration',
    label: 'App configuration (managed devices)',
    category: 'Apps',
    platforms: ['iOS', 'android'],
    path: 'deviceAppManagement/mobileAppConfigurations',
    permission: APPS,
    assignments: 'expand',
  }),
  entry({
    key: 'policySet',
    label: 'Policy sets',
    category: 'Apps',
    platforms: ['all'],
    path: 'deviceAppManagement/policySets',
    permission: APPS,
    assignments: 'batch',
    details: [{ name: 'items', via: 'expand' }],
  }),
  entry({
    key: 'roleScopeTag',
    label: 'Scope tags',
    kind: 'foundation',
    category: 'Foundations',
    platforms: ['all'],
    path: 'deviceManagement/roleScopeTags',
    permission: RBAC,
    assignments: 'subresource',
    unstamped: true,
    skip: { property: 'isBuiltIn', equals: true, reason: 'the built-in Default scope tag' },
    quirks: [
      'ids are small integers',
      'custom only',
      'assignments are the groups whose devices get the tag automatically',
    ],
  }),
  entry({
    key: 'assignmentFilter',
    label: 'Assignment filters',
    kind: 'foundation',
    category: 'Foundations',
    platforms: ['all'],
    path: 'deviceManagement/assignmentFilters',
    permission: CONFIG,
    assignments: null,
  }),
  entry({
    key: 'notificationMessageTemplate',
    label: 'Notification templates',
    kind: 'foundation',
    category: 'Foundations',
    platforms: ['all'],
    path: 'deviceManagement/notificationMessageTemplates',
    permission: SERVICE,
    assignments: null,
    details: [{ name: 'localizedNotificationMessages', via: 'list' }],
  }),
  entry({
    key: 'termsAndConditions',
    label: 'Terms and conditions',
    kind: 'foundation',
    category: 'Foundations',
    platforms: ['all'],
    path: 'deviceManagement/termsAndConditions',
    permission: SERVICE,
    assignments: 'subresource',
  }),
  entry({
    key: 'roleDefinition',
    label: 'Intune roles',
    kind: 'foundation',
    category: 'Foundations',
    platforms: ['all'],
    path: 'deviceManagement/roleDefinitions',
    permission: RBAC,
    assignments: null,
    unstamped: true,
    details: [{ name: 'roleAssignments', via: 'subresource' }],
    skip: { property: 'isBuiltIn', equals: true, reason: 'built-in Intune roles' },
    quirks: ['custom only, with role assignments'],
  }),
  entry({
    key: 'deviceCategory',
    label: 'Device categories',
    kind: 'foundation',
    category: 'Foundations',
    platforms: ['all'],
    path: 'deviceManagement/deviceCategories',
    permission: 'DeviceManagementManagedDevices.Read.All',
    assignments: null,
  }),
  entry({
    key: 'reusablePolicySetting',
    label: 'Reusable settings',
    kind: 'foundation',
    category: 'Foundations',
    platforms: ['windows'],
    path: 'deviceManagement/reusablePolicySettings',
    permission: CONFIG,
    assignments: null,
  }),
  entry({
    key: 'conditionalAccessPolicy',
    label: 'Conditional Access policies',
    category: 'Conditional access',
    platforms: ['all'],
    path: 'identity/conditionalAccess/policies',
    permission: POLICY,
    assignments: null,
    quirks: [
      'Entra, not Intune: needs Policy.Read.All',
      'users, groups and apps are inside conditions, not assignments',
    ],
  }),
  entry({
    key: 'depOnboardingSetting',
    label: 'Apple enrollment program tokens',
    kind: 'foundation',
    category: 'Enrollment',
    platforms: ['iOS', 'macOS'],
    path: 'deviceManagement/depOnboardingSettings',
    nameProperty: 'tokenName',
    permission: SERVICE,
    assignments: null,
    details: [{ name: 'enrollmentProfiles', via: 'subresource' }],
    quirks: ['ADE enrollment profiles under each token'],
  }),
  entry({
    key: 'vppToken',
    label: 'Apple VPP tokens',
    kind: 'foundation',
    category: 'Apps',
    platforms: ['iOS', 'macOS'],
    path: 'deviceAppManagement/vppTokens',
    permission: APPS,
    assignments: null,
  }),
  entry({
    key: 'complianceManagementPartner',
    label: 'Compliance partners',
    kind: 'foundation',
    category: 'Compliance',
    platforms: ['all'],
    path: 'deviceManagement/complianceManagementPartners',
    permission: SERVICE,
    assignments: null,
    quirks: ['platform enrolment groups are properties, not assignments'],
  }),
  entry({
    key: 'deviceManagementPartner',
    label: 'Device management partners',
    kind: 'foundation',
    category: 'Foundations',
    platforms: ['all'],
    path: 'deviceManagement/deviceManagementPartners',
    permission: SERVICE,
    assignments: null,
  }),
  entry({
    key: 'remoteAssistancePartner',
    label: 'Remote assistance partners',
    kind: 'foundation',
    category: 'Foundations',
    platforms: ['all'],
    path: 'deviceManagement/remoteAssistancePartners',
    permission: SERVICE,
    assignments: null,
  }),
  // Singletons IntuneCD backs up (issue 17): one GET each, no assignments.
  entry({
    key: 'applePushNotificationCertificate',
    label: 'Apple MDM push certificate',
    kind: 'foundation',
    category: 'Enrollment',
    platforms: ['iOS', 'macOS'],
    path: 'deviceManagement/applePushNotificationCertificate',
    nameProperty: 'appleIdentifier',
    permission: SERVICE,
    assignments: null,
    singleton: { id: 'applePushNotificationCertificate', name: 'Apple MDM push certificate' },
    quirks: [
      'a singleton: 404 when the tenant has no certificate',
      'the certificate itself is not readable, only its metadata',
    ],
  }),
  entry({
    key: 'androidManagedStoreAccountEnterpriseSettings',
    label: 'Managed Google Play',
    kind: 'foundation',
    category: 'Enrollment',
    platforms: ['android'],
    path: 'deviceManagement/androidManagedStoreAccountEnterpriseSettings',
    nameProperty: 'ownerUserPrincipalName',
    permission: CONFIG,
    assignments: null,
    singleton: { id: 'androidManagedStoreAccountEnterpriseSettings', name: 'Managed Google Play' },
    quirks: ['a singleton: the binding of the tenant to a managed Google Play account'],
  }),
  entry({
    key: 'deviceManagementSettings',
    label: 'Tenant device management settings',
    kind: 'foundation',
    category: 'Compliance',
    platforms: ['all'],
    path: 'deviceManagement/settings',
    permission: CONFIG,
    assignments: null,
    singleton: { id: 'deviceManagementSettings', name: 'Tenant device management settings' },
    quirks: [
      'a singleton without an id: the compliance settings of the tenant (check-in threshold, devices without a policy)',
    ],
  }),
  entry({
    key: 'group',
    label: 'Entra groups',
    kind: 'dependency',
    category: 'Dependencies',
    platforms: ['all'],
    apiVersion: 'v1.0',
    path: 'groups',
    permission: 'Group.Read.All',
    assignments: null,
    listable: false,
    select: ['id', 'displayName', 'description', 'groupTypes', 'securityEnabled', 'mailEnabled', 'membershipRule'],
    quirks: ['read by id for each group an assignment references; 404 = orphaned reference to a deleted group'],
  }),
]

const BY_KEY = new Map(POLICY_TYPES.map((e) => [e.key, e]))

export const policyTypeKeys = (): string[] => POLICY_TYPES.map((e) => e.key)

export function findPolicyType(key: string): PolicyTypeEntry | undefined {
  return BY_KEY.get(key)
}

export function getPolicyType(key: string): PolicyTypeEntry {
  const found = BY_KEY.get(key)
  if (!found) throw new Error(`Unknown policy type: ${key}`)
  return found
}

export const policyTypesOfKind = (kind: PolicyTypeKind) => POLICY_TYPES.filter((e) => e.kind === kind)

export const policyTypesInCategory = (category: Category) => POLICY_TYPES.filter((e) => e.category === category)

/** Categories that have at least one type, in catalog order. */
export const usedCategories = (): Category[] => CATEGORIES.filter((c) => POLICY_TYPES.some((e) => e.category === c))

/** The dependency entry for Entra groups, read for every group an assignment references. */
export const GROUP_TYPE: PolicyTypeEntry = getPolicyType('group')

/** True when the sync must ignore this listed object (a built-in the catalog skips). */
export function isSkipped(entry: PolicyTypeEntry, item: Record<string, unknown>): boolean {
  return entry.skip !== undefined && item[entry.skip.property] === entry.skip.equals
}

/** The collection an object is read from by id: platform-specific for app protection policies. */
export function itemCollection(entry: PolicyTypeEntry, item: { '@odata.type'?: unknown }): string {
  const type = item['@odata.type']
  return (typeof type === 'string' && entry.itemCollections?.[type]) || entry.path
}

/** The object's display name, whichever property the type uses (a singleton without one: its fixed name). */
export function displayNameOf(entry: PolicyTypeEntry, item: Record<string, unknown>): string {
  const value = item[entry.nameProperty] ?? item.displayName ?? item.name
  return typeof value === 'string' && value !== '' ? value : (entry.singleton?.name ?? '')
}

/**
 * A singleton's GET answer as the one object the sync mirrors, or null when the tenant has none
 * (an object with no property beside annotations and an id). Its id is the catalog's.
 */
export function singletonItem(
  entry: PolicyTypeEntry,
  body: unknown,
): (Record<string, unknown> & { id: string }) | null {
  if (!entry.singleton) throw new Error(`${entry.key} is not a singleton`)
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return null
  const fields = Object.entries(body as Record<string, unknown>).filter(
    ([key]) => key !== 'id' && !key.includes('@odata.'),
  )
  if (fields.length === 0) return null
  const { '@odata.context': _context, ...rest } = body as Record<string, unknown>
  return { ...rest, id: entry.singleton.id }
}
