import type { WriteMethod } from '../graph-client.ts'
import { itemCollection, type PolicyTypeEntry } from '../policy-types.ts'

/**
 * How Graph wants each catalog type written (ADR 019): the requests that create an object from
 * its content, update an existing object to it, assign it and delete it. Pure functions of the
 * catalog entry and the content, so restore, bulk operations and their tests build the same
 * requests; sending them (limits, retries, exactly-once) is the journal's and the client's.
 *
 * Content is an object as the inventory and backups keep it (modules/inventory/normalise.ts): the
 * object's properties with its detail collections (settings, definitionValues,
 * scheduledActionsForRule, apps, …) merged in, and its assignments apart.
 */

type Body = Record<string, unknown>

export type ObjectContent = { payload: Body; assignments: Body[] }

/** One Graph write: a relative URL (`/beta/...`). */
export type WriteRequest = {
  method: WriteMethod
  url: string
  body?: unknown
  /** What it does, for people: `create`, `replace settings`, `assign`. */ label: string
}

/**
 * Properties the service sets: Graph refuses a write that names one (400 "read-only"), so they
 * are stripped. Navigation properties (assignments, detail collections) are written their own way.
 */
export const SERVER_SET_PROPERTIES: readonly string[] = [
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'modifiedDateTime',
  'version',
  'settingCount',
  'isAssigned',
  'deployedAppCount',
  'supportsScopeTags',
  'creationSource',
  'referencingConfigurationPolicyCount',
  'isGlobalScript',
  'assignments',
]

/** Settings catalog policies: created with their settings, updated by a PUT that replaces them. */
const SETTINGS_CATALOG = new Set(['settingsCatalogPolicy', 'endpointSecurityPolicy', 'compliancePolicy'])

/** The body key `/assign` takes, where it is not `assignments` (Graph's action parameters). */
const ASSIGN_KEYS: Readonly<Record<string, string>> = {
  deviceManagementScript: 'deviceManagementScriptAssignments',
  deviceShellScript: 'deviceManagementScriptAssignments',
  deviceCustomAttributeShellScript: 'deviceManagementScriptAssignments',
  deviceHealthScript: 'deviceHealthScriptAssignments',
  deviceComplianceScript: 'deviceHealthScriptAssignments',
  mobileApp: 'mobileAppAssignments',
  deviceEnrollmentConfiguration: 'enrollmentConfigurationAssignments',
}

/** Types a restore cannot write, and why. */
const NOT_WRITABLE: Readonly<Record<string, string>> = {
  group: 'Entra groups are not restored: assignments are mapped to existing groups',
  vppToken: 'an Apple VPP token is uploaded in Intune with its token file from Apple Business Manager',
  depOnboardingSetting: 'an Apple enrollment program token is uploaded in Intune with its token file from Apple',
  applePushNotificationCertificate:
    "the Apple MDM push certificate is renewed in Intune with a certificate from Apple's Push Certificates Portal",
  androidManagedStoreAccountEnterpriseSettings:
    'managed Google Play is connected in Intune by signing in with the Google account',
}

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v)
const MASK = /^\*{3,}$/

/** Why the type (or this object of it) cannot be created or updated by a restore; null when it can. */
export function notWritableReason(entry: PolicyTypeEntry, payload: Body): string | null {
  if (NOT_WRITABLE[entry.key]) return NOT_WRITABLE[entry.key]!
  const type = payload['@odata.type']
  if (entry.key === 'mobileApp' && typeof type === 'string' && /LobApp$|win32LobApp|ContentApp/i.test(type)) {
    return 'a line-of-business app needs its app package, which a backup does not hold'
  }
  return null
}

/** Paths (`omaSettings[0].value`) of secrets Graph returned masked: a create cannot carry them. */
export function maskedSecrets(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return MASK.test(value) ? [path] : []
  if (Array.isArray(value)) return value.flatMap((v, i) => maskedSecrets(v, `${path}[${i}]`))
  if (!isObject(value)) return []
  return Object.entries(value).flatMap(([k, v]) =>
    k === 'secretReferenceValueId' ? [] : maskedSecrets(v, path ? `${path}.${k}` : k),
  )
}

/** The detail collections of a type (written with a create, or through their own action). */
const detailNames = (entry: PolicyTypeEntry) => new Set(entry.details.map((d) => d.name))

/** The object's own properties, as a write may carry them: server-set and navigation properties and annotations stripped. */
export function writableFields(entry: PolicyTypeEntry, payload: Body): Body {
  const details = detailNames(entry)
  const out: Body = {}
  for (const [k, v] of Object.entries(payload)) {
    if (SERVER_SET_PROPERTIES.includes(k) || details.has(k)) continue
    if (k.includes('@odata.') && k !== '@odata.type') continue
    out[k] = v
  }
  return out
}

/** Rows of a child collection as a write carries them: without their ids (the service gives new ones) and annotations. */
function childRows(rows: unknown, drop: readonly string[] = []): Body[] {
  if (!Array.isArray(rows)) return []
  return rows.filter(isObject).map((row) => {
    const out: Body = {}
    for (const [k, v] of Object.entries(row)) {
      if (k === 'id' || drop.includes(k) || (k.includes('@odata.') && k !== '@odata.type')) continue
      out[k] = Array.isArray(v) && v.every(isObject) ? childRows(v, drop) : v
    }
    return out
  })
}

/** A settings catalog setting as a write carries it (the definitions the read expanded are not part of it). */
const settingRows = (settings: unknown) => childRows(settings, ['settingDefinitions'])

/** Compliance actions: `scheduledActionsForRule` with their `scheduledActionConfigurations`, without ids. */
const ruleRows = (rules: unknown) => childRows(rules)

const collectionUrl = (entry: PolicyTypeEntry, payload: Body) =>
  `/${entry.apiVersion}/${itemCollection(entry, payload)}`
// A singleton (the tenant's settings) is its own path: neither created nor deleted, only PATCHed.
const objectUrl = (entry: PolicyTypeEntry, id: string, payload: Body) =>
  entry.singleton ? `/${entry.apiVersion}/${entry.path}` : `${collectionUrl(entry, payload)}/${encodeURIComponent(id)}`

/**
 * Administrative template values as `updateDefinitionValues` adds them: each bound to its
 * definition (`definition@odata.bind`), with its presentation values.
 */
function addedDefinitionValues(entry: PolicyTypeEntry, values: unknown): Body[] {
  if (!Array.isArray(values)) return []
  // One value per definition: Graph refuses a second one ("already has a value for definition").
  const seen = new Set<string>()
  return values.filter(isObject).flatMap((v) => {
    const definitionId = isObject(v.definition) && typeof v.definition.id === 'string' ? v.definition.id : undefined
    if (!definitionId || seen.has(definitionId)) return []
    seen.add(definitionId)
    return [
      {
        enabled: v.enabled !== false,
        'definition@odata.bind': `https://graph.microsoft.com/${entry.apiVersion}/deviceManagement/groupPolicyDefinitions('${definitionId}')`,
        presentationValues: childRows(v.presentationValues),
      },
    ]
  })
}

const definitionIdOf = (v: Body) =>
  isObject(v.definition) && typeof v.definition.id === 'string' ? v.definition.id : undefined

/** The request that creates the object (POST to its collection), with what Graph takes in a create. */
export function createRequest(entry: PolicyTypeEntry, content: ObjectContent): WriteRequest {
  const { payload } = content
  // A tenant always has its one settings object: "creating" it is setting it.
  if (entry.singleton)
    return {
      method: 'PATCH',
      url: objectUrl(entry, entry.singleton.id, payload),
      body: writableFields(entry, payload),
      label: 'create',
    }
  const body = writableFields(entry, payload)
  for (const detail of entry.details) {
    if (!(detail.name in payload)) continue
    // Administrative templates: the policy first, its values through updateDefinitionValues (afterCreateRequests).
    if (entry.key === 'groupPolicyConfiguration' && detail.name === 'definitionValues') continue
    body[detail.name] =
      detail.name === 'settings'
        ? settingRows(payload.settings)
        : detail.name === 'scheduledActionsForRule'
          ? ruleRows(payload.scheduledActionsForRule)
          : childRows(payload[detail.name])
  }
  return { method: 'POST', url: collectionUrl(entry, payload), body, label: 'create' }
}

/** What a create still needs once Graph gave the object its id (Administrative templates: their values). */
export function afterCreateRequests(entry: PolicyTypeEntry, id: string, content: ObjectContent): WriteRequest[] {
  if (entry.key !== 'groupPolicyConfiguration') return []
  const added = addedDefinitionValues(entry, content.payload.definitionValues)
  if (added.length === 0) return []
  return [
    {
      method: 'POST',
      url: `${objectUrl(entry, id, content.payload)}/updateDefinitionValues`,
      body: { added, updated: [], deletedIds: [] },
      label: 'set definition values',
    },
  ]
}

/**
 * The requests that make the existing object `id` (now `current`) hold `desired`: settings
 * catalog policies by a PUT replacing their settings; others by PATCH with their `@odata.type`;
 * compliance actions through scheduleActionsForRules; Administrative template values through
 * updateDefinitionValues (added, updated, deleted by definition).
 */
export function updateRequests(
  entry: PolicyTypeEntry,
  id: string,
  desired: ObjectContent,
  current: ObjectContent,
): WriteRequest[] {
  const url = objectUrl(entry, id, current.payload)
  const fields = writableFields(entry, desired.payload)
  if (SETTINGS_CATALOG.has(entry.key)) {
    return [
      {
        method: 'PUT',
        url,
        body: { ...fields, settings: settingRows(desired.payload.settings) },
        label: 'replace settings',
      },
    ]
  }
  const requests: WriteRequest[] = [{ method: 'PATCH', url, body: fields, label: 'update' }]
  if (entry.key === 'deviceCompliancePolicy') {
    requests.push({
      method: 'POST',
      url: `${url}/scheduleActionsForRules`,
      body: { deviceComplianceScheduledActionForRules: ruleRows(desired.payload.scheduledActionsForRule) },
      label: 'schedule actions',
    })
  }
  if (entry.key === 'groupPolicyConfiguration') {
    const wanted = new Map<string, Body>()
    for (const v of Array.isArray(desired.payload.definitionValues)
      ? desired.payload.definitionValues.filter(isObject)
      : []) {
      const d = definitionIdOf(v)
      if (d) wanted.set(d, v)
    }
    const existing = Array.isArray(current.payload.definitionValues)
      ? current.payload.definitionValues.filter(isObject)
      : []
    const deletedIds = existing.filter((v) => !wanted.has(definitionIdOf(v) ?? '')).map((v) => String(v.id))
    const updated = existing.flatMap((v) => {
      const want = wanted.get(definitionIdOf(v) ?? '')
      return want
        ? [{ id: v.id, enabled: want.enabled !== false, presentationValues: childRows(want.presentationValues) }]
        : []
    })
    const have = new Set(existing.map(definitionIdOf))
    const added = addedDefinitionValues(
      entry,
      [...wanted.entries()].filter(([d]) => !have.has(d)).map(([, v]) => v),
    )
    if (added.length + updated.length + deletedIds.length > 0) {
      requests.push({
        method: 'POST',
        url: `${url}/updateDefinitionValues`,
        body: { added, updated, deletedIds },
        label: 'set definition values',
      })
    }
  }
  return requests
}

/** The details an update cannot write (PATCH takes no navigation property): a plan warns when they differ. */
export function detailsNotUpdated(entry: PolicyTypeEntry): string[] {
  if (SETTINGS_CATALOG.has(entry.key)) return entry.details.map((d) => d.name).filter((n) => n !== 'settings')
  return entry.details
    .map((d) => d.name)
    .filter(
      (n) =>
        !(entry.key === 'deviceCompliancePolicy' && n === 'scheduledActionsForRule') &&
        !(entry.key === 'groupPolicyConfiguration' && n === 'definitionValues'),
    )
}

/** An assignment as `/assign` takes it: no id (Intune forms it), target and intent kept. */
export function assignmentBody(assignment: Body): Body {
  const { id: _id, ...rest } = assignment
  return Object.fromEntries(Object.entries(rest).filter(([k]) => !k.includes('@odata.') || k === '@odata.type'))
}

/**
 * `/assign` with the whole set (it replaces the object's assignments: the caller passes the set
 * it wants, merged with what is there when it means to add). Null for types without assignments.
 */
export function assignRequest(
  entry: PolicyTypeEntry,
  id: string,
  payload: Body,
  assignments: readonly Body[],
): WriteRequest | null {
  if (entry.assignments === null) return null
  return {
    method: 'POST',
    url: `${objectUrl(entry, id, payload)}/assign`,
    body: { [ASSIGN_KEYS[entry.key] ?? 'assignments']: assignments.map(assignmentBody) },
    label: 'assign',
  }
}

export function deleteRequest(entry: PolicyTypeEntry, id: string, payload: Body = {}): WriteRequest {
  return { method: 'DELETE', url: objectUrl(entry, id, payload), label: 'delete' }
}
