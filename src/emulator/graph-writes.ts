import { randomUUID } from 'node:crypto'
import { getPolicyType, type PolicyTypeEntry } from '../graph/policy-types.ts'
import { modifiedProperties, type Actor, type AuditOperation } from './audit-log.ts'
import type { EmulatedTenant, TenantObject } from './emulated-tenant.ts'
import { groupExists } from './directory-routes.ts'
import { graphError, ok, type Collection, type GraphResponse } from './graph-routes.ts'
import { annotatedType, derivesFrom, navigationType, schemaViolation, typeOfPath } from './graph-schema.ts'
import { rng } from './random.ts'
import { ENROLLMENT_TYPES, groupPolicyDefinition, MASKED_SECRET, NO_TEMPLATE, SHAPES } from './shapes.ts'
import type { Assignment } from './tenant-model.ts'

/**
 * Microsoft Graph's writes for every catalog type, with the validation Intune applies and
 * its error bodies: create (POST), update (PATCH; PUT for settings catalog policies, which
 * replaces their settings), DELETE, `/assign` (replaces the whole assignment set), a single
 * assignment through `{id}/assignments`, `updateDefinitionValues` (Administrative templates)
 * and `scheduleActionsForRules` (compliance). Every write is recorded in the audit log with
 * the app as its actor.
 */

type Body = Record<string, unknown>
export type Write = {
  tenant: EmulatedTenant
  collection: Collection
  actor: Actor
  context: string
  correlationId?: string | undefined
}

/**
 * Properties the service sets: a write that names one is not refused, the value is ignored.
 * Graph's own create and update examples send them (e.g. `settingCount`, `createdDateTime`,
 * `lastModifiedDateTime` in https://learn.microsoft.com/graph/api/intune-deviceconfigv2-devicemanagementconfigurationpolicy-create,
 * `version` and `supportsScopeTags` in https://learn.microsoft.com/graph/api/intune-deviceconfig-windows10generalconfiguration-create),
 * and IntuneCD creates settings catalog policies with `settingCount` in real tenants (issue 23, item 9).
 */
const READ_ONLY = [
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
]

/** A value Graph answers in place of a secret it never returns. */
const MASK = /^\*{3,}$/

/** Types whose settings are replaced by a PUT of the whole policy (settings catalog). */
const SETTINGS_CATALOG = new Set(['settingsCatalogPolicy', 'endpointSecurityPolicy', 'compliancePolicy'])

const COMPLIANCE_BLOCK = 'Compliance policy must have one and only one block scheduled action'

/**
 * Creates Graph answers with 200, not 201 (IntuneCD #178: scope tags and notification templates).
 * Role definitions too: the same role administration service answers them (its URL,
 * `StatelessRoleAdministrationFEService/deviceManagement/roleDefinitions`, shows in Intune's error
 * bodies, e.g. microsoft/Intune-PowerShell-SDK#123), and IntuneCD's update expects 200 there.
 */
const CREATED_WITH_200 = new Set(['roleScopeTag', 'notificationMessageTemplate', 'roleDefinition'])
/**
 * PATCHes Graph answers with 200 and the updated object, as these types' update pages document
 * ("If successful, this method returns a 200 OK response code and an updated … object in the
 * response body": e.g. https://learn.microsoft.com/graph/api/intune-shared-devicemanagementscript-update,
 * https://learn.microsoft.com/graph/api/intune-policyset-deviceandappmanagementassignmentfilter-update,
 * https://learn.microsoft.com/graph/api/intune-enrollment-windowsautopilotdeploymentprofile-update,
 * https://learn.microsoft.com/graph/api/intune-grouppolicy-grouppolicyconfiguration-update) and
 * IntuneCD's update, in daily use against the service, expects (its update modules check for 200
 * on exactly these; issue 23's update pass). The other types answer 204 without a body, which
 * IntuneCD expects of device configurations, compliance policies, app configurations and
 * protections, and which Conditional Access documents
 * (https://learn.microsoft.com/graph/api/conditionalaccesspolicy-update).
 */
const PATCHED_WITH_200 = new Set([
  'groupPolicyConfiguration',
  'deviceManagementScript',
  'deviceHealthScript',
  'deviceShellScript',
  'deviceCustomAttributeShellScript',
  'deviceComplianceScript',
  'windowsAutopilotDeploymentProfile',
  'deviceEnrollmentConfiguration',
  'windowsFeatureUpdateProfile',
  'windowsQualityUpdateProfile',
  'windowsDriverUpdateProfile',
  'roleScopeTag',
  'assignmentFilter',
  'notificationMessageTemplate',
  'roleDefinition',
  'deviceCategory',
])
/**
 * `/assign` answers 204 without a body for app protection and targeted app configurations
 * (https://learn.microsoft.com/graph/api/intune-mam-targetedmanagedappconfiguration-assign,
 * https://learn.microsoft.com/graph/api/intune-mam-iosmanagedappprotection-assign).
 */
const ASSIGN_WITHOUT_BODY = new Set(['managedAppPolicy', 'targetedManagedAppConfiguration'])

const bad = (message: string, code = 'BadRequest') => graphError(400, code, message, 'write')
const noContent = (): GraphResponse => ({
  status: 204,
  kind: 'write',
  headers: { 'request-id': randomUUID() },
  body: null,
})
const noRoute = (method: string, path: string) =>
  graphError(
    400,
    'No method match route template',
    `No OData route exists that match template ~/singleton/navigation/key with http verb ${method} for request /deviceManagement/${path}.`,
    'write',
  )
const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Intune's services answer many refusals with their own JSON document as the message
 * (https://github.com/Micke-K/IntuneManagement/issues/241 and
 * https://github.com/microsoftgraph/powershell-intune-samples/issues/179 show some).
 */
function intuneError(code: string, text: string): GraphResponse {
  const activity = randomUUID()
  return bad(
    JSON.stringify({
      _version: 3,
      Message: `${text} - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: ${activity}`,
      CustomApiErrorPhrase: '',
      RetryAfter: null,
      ErrorSourceService: '',
      HttpHeaders: '{}',
    }),
    code,
  )
}

const SCOPE_TAG = getPolicyType('roleScopeTag')

/**
 * Scope tags a create or update names must exist in the tenant: Intune refuses an id it has no scope
 * tag for with 400 BadRequest, its JSON-in-a-string message "Invalid Role Scope Tag defined {ids}"
 * (quoted from a real tenant in github.com/microsoftgraph/powershell-intune-samples/issues/219,
 * where "2,3" sent as one id was refused). The built-in Default tag, id "0", always exists
 * (https://learn.microsoft.com/intune/intune-service/fundamentals/scope-tags: "Default" is added
 * to every untagged object). Deleted tags are no tags. `roleScopeTagIds` on most types,
 * `roleScopeTags` on policy sets and assignment filters (their schema's names).
 */
function scopeTagError(w: Write, fields: Body): GraphResponse | undefined {
  for (const property of ['roleScopeTagIds', 'roleScopeTags']) {
    const ids = fields[property]
    if (!Array.isArray(ids)) continue
    const unknown = ids.filter((id) => id !== '0' && !(typeof id === 'string' && w.tenant.find([SCOPE_TAG], id)))
    if (unknown.length > 0) return intuneError('BadRequest', `Invalid Role Scope Tag defined ${unknown.join(',')}`)
  }
  return undefined
}

const invalidReference = (id: string) =>
  intuneError('BadRequest', `Invalid Reference id found in Policy\nInvalidReferenceId\n${id}`)

/**
 * Secrets in a write. A secret Graph read back masked comes with the reference of the stored
 * secret (secretReferenceValueId): a create refuses the reference (the secret stays in the
 * object it was read from), an update of that same object keeps the referenced secret. A mask
 * without a reference is refused: Graph would store `****` as the secret, silently breaking
 * the policy; the emulator makes that mistake visible.
 */
function secretError(value: unknown, path: string, objectId: string | null): GraphResponse | undefined {
  if (typeof value === 'string')
    return MASK.test(value)
      ? bad(`The value of '${path}' is a masked secret ('****'), not the secret: send the secret's value.`)
      : undefined
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const found = secretError(v, `${path}[${i}]`, objectId)
      if (found) return found
    }
    return undefined
  }
  if (!isObject(value)) return undefined
  const reference = value.secretReferenceValueId
  if (typeof reference === 'string' && reference !== '') {
    if (objectId === null) return intuneError('NotSupported', 'SecretReferenceValueId invalid for create.')
    if (!reference.startsWith(`${objectId}_`))
      return intuneError('NotSupported', `SecretReferenceValueId ${reference} does not belong to ${objectId}.`)
    return undefined
  }
  for (const [k, v] of Object.entries(value)) {
    const found = secretError(v, path ? `${path}.${k}` : k, objectId)
    if (found) return found
  }
  return undefined
}

/**
 * Encrypted values written in clear are stored as Graph stores them: read back masked, with a
 * reference; the clear value is kept in the tenant's secrets (getOmaSettingPlainTextValue reads it).
 */
function encryptSecrets(value: unknown, objectId: string, secrets: Map<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => encryptSecrets(v, objectId, secrets))
  if (!isObject(value)) return value
  if (value.isEncrypted === true && typeof value.value === 'string' && !MASK.test(value.value)) {
    const reference = `${objectId}_${randomUUID().slice(0, 8)}`
    secrets.set(reference, value.value)
    return { ...value, value: MASKED_SECRET, secretReferenceValueId: reference }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encryptSecrets(v, objectId, secrets)]))
}

/** Every settingDefinitionId in a setting instance tree. */
function definitionIds(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) definitionIds(v, out)
  else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'settingDefinitionId' && typeof v === 'string') out.push(v)
      else definitionIds(v, out)
    }
  }
  return out
}

/** A sample object of a type, to learn which properties the service sets and whether the type is polymorphic. */
const SAMPLES = new Map<string, Body>()
function sample(entry: PolicyTypeEntry): Body {
  let s = SAMPLES.get(entry.key)
  if (!s) {
    s = SHAPES[entry.key]!.make({
      r: rng(1),
      index: 0,
      id: '0',
      name: 'x',
      description: '',
      created: '',
      modified: '',
      scopeTagIds: [],
      builtIn: false,
    })
    SAMPLES.set(entry.key, s)
  }
  return s
}

/**
 * The checks every create and update shares: a JSON object, no read-only property, no
 * navigation property outside `allowedNavs`, no masked secret. Instance annotations
 * (`@odata.context`, `assignments@odata.context`) are dropped, as Graph ignores them.
 */
function validateFields(
  entry: PolicyTypeEntry,
  body: unknown,
  allowedNavs: readonly string[],
  target: { objectId: string | null; type: string },
): { fields: Body; navs: Record<string, unknown[]> } | GraphResponse {
  const objectId = target.objectId
  if (!isObject(body)) return bad('The request body must be a JSON object.')
  const fields: Body = {}
  const navs: Record<string, unknown[]> = {}
  const navNames = new Set([...entry.details.map((d) => d.name), 'assignments'])
  for (const [k, v] of Object.entries(body)) {
    if (k.includes('@odata.') && k !== '@odata.type') continue
    if (READ_ONLY.includes(k)) continue
    if (navNames.has(k)) {
      if (!allowedNavs.includes(k)) {
        return bad(
          k === 'assignments'
            ? `The navigation property 'assignments' cannot be written here: use the assign action or the assignments collection.`
            : `The navigation property '${k}' cannot be written with ${allowedNavs.length ? 'this request' : 'PATCH'}.`,
          'ModelValidationFailure',
        )
      }
      if (!Array.isArray(v)) return bad(`The property '${k}' must be a collection.`)
      navs[k] = v
      continue
    }
    fields[k] = v
  }
  const violation = schemaViolation(fields, target.type)
  if (violation) return bad(violation.message)
  return secretError(body, '', objectId) ?? { fields, navs }
}

function record(w: Write, operation: AuditOperation, o: TenantObject, modified: Body[] = [], action?: string) {
  const entry = w.collection.entries.find((e) => e.key === o.key) ?? w.collection.entries[0]!
  w.tenant.audit.record({
    operation,
    action,
    entry,
    object: o.body,
    actor: w.actor,
    modified,
    ...(w.correlationId ? { correlationId: w.correlationId } : {}),
  })
}

/** Settings of a settings catalog policy, checked against the definitions the tenant offers. */
function settingsOf(tenant: EmulatedTenant, raw: unknown[]): Body[] | GraphResponse {
  const settings: Body[] = []
  for (const [i, s] of raw.entries()) {
    if (!isObject(s) || !isObject(s.settingInstance))
      return bad(`settings[${i}]: a deviceManagementConfigurationSetting with a settingInstance.`)
    const ids = definitionIds(s.settingInstance)
    if (ids.length === 0) return bad(`settings[${i}].settingInstance: settingDefinitionId is required.`)
    const unknown = ids.find((id) => !tenant.knowsSettingDefinition(id))
    if (unknown !== undefined) return invalidReference(unknown)
    const { id: _id, ...rest } = s
    settings.push({ ...rest, id: String(i) })
  }
  return settings
}

/** Scheduled actions of a compliance policy: exactly one block action, as Intune requires. */
function scheduledActions(policyId: string, raw: unknown[] | undefined): Body[] | GraphResponse {
  const rules = raw ?? []
  if (!rules.every(isObject))
    return bad('scheduledActionsForRule: a collection of deviceComplianceScheduledActionForRule.')
  const configurations = (r: Body): unknown[] =>
    Array.isArray(r.scheduledActionConfigurations) ? r.scheduledActionConfigurations : []
  const blocks = rules.flatMap(configurations).filter((c) => isObject(c) && c.actionType === 'block')
  if (blocks.length !== 1) return bad(COMPLIANCE_BLOCK)
  return rules.map((r, i) => ({
    id: `${policyId}-rule${i === 0 ? '' : `-${i}`}`,
    ruleName: r.ruleName ?? null,
    scheduledActionConfigurations: configurations(r)
      .filter(isObject)
      .map((c, j) => ({
        id: c.actionType === 'block' ? `${policyId}-block` : `${policyId}-action-${i}-${j}`,
        gracePeriodHours: typeof c.gracePeriodHours === 'number' ? c.gracePeriodHours : 0,
        actionType: c.actionType,
        notificationTemplateId:
          typeof c.notificationTemplateId === 'string' && c.notificationTemplateId !== ''
            ? c.notificationTemplateId
            : NO_TEMPLATE,
        notificationMessageCCList: Array.isArray(c.notificationMessageCCList)
          ? (c.notificationMessageCCList as unknown[])
          : [],
      })),
  }))
}

/** Children written with a create (policy set items, app lists, localized messages, …), given ids. */
const childRows = (parentId: string, name: string, rows: unknown[]) =>
  rows
    .filter(isObject)
    .map((r, i) => ({ ...r, id: typeof r.id === 'string' && r.id !== '' ? r.id : `${parentId}-${name}-${i}` }))

/** Which of a shared collection's types a created object belongs to, as the catalog's list filters would sort it. */
export function entryForNewObject(collection: Collection, fields: Body): PolicyTypeEntry {
  const family = (fields.templateReference as { templateFamily?: unknown } | undefined)?.templateFamily
  const key =
    fields['@odata.type'] === '#microsoft.graph.windowsUpdateForBusinessConfiguration'
      ? 'windowsUpdateRing'
      : typeof family === 'string' && family !== 'none'
        ? 'endpointSecurityPolicy'
        : undefined
  return collection.entries.find((e) => e.key === key) ?? collection.entries[0]!
}

function create(w: Write, body: unknown): GraphResponse {
  const entry = entryForNewObject(w.collection, isObject(body) ? body : {})
  const allowed = entry.details.map((d) => d.name)
  const checked = validateFields(entry, body, allowed, { objectId: null, type: typeOfPath(w.collection.path)! })
  if ('status' in checked) return checked
  const { fields, navs } = checked
  const tagRefused = scopeTagError(w, fields)
  if (tagRefused) return tagRefused
  // Graph creates an Administrative templates profile without the definition values sent with it:
  // they are added by updateDefinitionValues (IntuneCD sends both and works against Graph; issue 23, item 12).
  if (entry.key === 'groupPolicyConfiguration') delete navs.definitionValues
  const shape = sample(entry)
  if (
    typeof shape['@odata.type'] === 'string' &&
    typeof fields['@odata.type'] !== 'string' &&
    !w.collection.odataType
  ) {
    return bad(
      `Cannot create an instance of the abstract type of '${w.collection.path}': name a derived type in '@odata.type'.`,
    )
  }
  if (typeof fields[entry.nameProperty] !== 'string' || fields[entry.nameProperty] === '')
    return bad(`The property '${entry.nameProperty}' is required.`)
  let settings: Body[] | undefined
  if (SETTINGS_CATALOG.has(entry.key)) {
    const s = settingsOf(w.tenant, navs.settings ?? [])
    if (!Array.isArray(s)) return s
    settings = s
  }
  if (entry.key === 'deviceCompliancePolicy') {
    const check = scheduledActions('x', navs.scheduledActionsForRule)
    if (!Array.isArray(check)) return check
  }
  // What the service sets on a new object of this type (the properties its reads have).
  const now = new Date().toISOString()
  const serverSet: Body = {}
  for (const stamp of ['createdDateTime', 'lastModifiedDateTime', 'modifiedDateTime'])
    if (stamp in shape) serverSet[stamp] = now
  if (typeof shape.version === 'number') serverSet.version = 1
  else if (typeof shape.version === 'string') serverSet.version = '1'
  if ('roleScopeTagIds' in shape && fields.roleScopeTagIds === undefined) serverSet.roleScopeTagIds = ['0']
  // Flags the service answers for every object it created (a client cannot send them).
  if ('supportsScopeTags' in shape) serverSet.supportsScopeTags = true
  if ('isGlobalScript' in shape) serverSet.isGlobalScript = false
  if (w.collection.odataType && fields['@odata.type'] === undefined) fields['@odata.type'] = w.collection.odataType
  // Which kind of enrollment configuration it is: the service's (read-only), from the type created.
  if (entry.key === 'deviceEnrollmentConfiguration') {
    const kind = ENROLLMENT_TYPES[String(fields['@odata.type'])]
    if (kind) serverSet.deviceEnrollmentConfigurationType = kind
  }
  const created = w.tenant.add(
    entry,
    { ...serverSet, ...fields, ...(settings ? { settingCount: settings.length } : {}) },
    { defaults: false },
  )
  const id = created.body.id
  const encrypted = encryptSecrets(fields, id, w.tenant.secrets) as Body
  if (JSON.stringify(encrypted) !== JSON.stringify(fields)) w.tenant.patch(id, encrypted, { touch: false })
  const children: Record<string, Record<string, unknown>[]> = {}
  for (const [name, rows] of Object.entries(navs)) children[name] = childRows(id, name, rows)
  if (settings) children.settings = settings
  if (entry.key === 'deviceCompliancePolicy')
    children.scheduledActionsForRule = scheduledActions(id, navs.scheduledActionsForRule) as Body[]
  if (Object.keys(children).length > 0) w.tenant.setChildren(id, children)
  const after = w.tenant.find([entry], id)!
  record(w, 'Create', after, modifiedProperties(null, after.body))
  const status = CREATED_WITH_200.has(entry.key) ? 200 : 201
  return ok({ '@odata.context': `${w.context}${w.collection.path}/$entity`, ...after.body }, 'write', status)
}

function update(w: Write, o: TenantObject, method: 'PATCH' | 'PUT', body: unknown): GraphResponse {
  const entry = w.collection.entries.find((e) => e.key === o.key)!
  const catalog = SETTINGS_CATALOG.has(entry.key)
  if (method === 'PUT' && !catalog) return noRoute('PUT', `${w.collection.path.split('/').pop()}/key`)
  const type = annotatedType(o.body) ?? typeOfPath(w.collection.path)!
  const checked = validateFields(entry, body, method === 'PUT' ? ['settings'] : [], { objectId: o.body.id, type })
  if ('status' in checked) return checked
  const { fields, navs } = checked
  const tagRefused = scopeTagError(w, fields)
  if (tagRefused) return tagRefused
  if (
    fields['@odata.type'] !== undefined &&
    o.body['@odata.type'] !== undefined &&
    fields['@odata.type'] !== o.body['@odata.type']
  ) {
    return bad(
      `The type '${JSON.stringify(fields['@odata.type'])}' does not match the type of the entity '${JSON.stringify(o.body['@odata.type'])}'.`,
    )
  }
  const { '@odata.type': _type, ...rest } = encryptSecrets(fields, o.body.id, w.tenant.secrets) as Body
  let settings: Body[] | undefined
  if (method === 'PUT') {
    if (typeof rest[entry.nameProperty] !== 'string' || rest[entry.nameProperty] === '')
      return bad(`The property '${entry.nameProperty}' is required.`)
    const s = settingsOf(w.tenant, navs.settings ?? [])
    if (!Array.isArray(s)) return s
    settings = s
  }
  const patched = w.tenant.patch(
    o.body.id,
    settings ? { ...rest, settingCount: settings.length, children: { settings } } : rest,
  )!
  const modified = modifiedProperties(patched.before.body, patched.after.body)
  if (settings) modified.push(...modifiedProperties({ settings: patched.before.children('settings') }, { settings }))
  record(w, 'Patch', patched.after, modified)
  if (method === 'PATCH' && PATCHED_WITH_200.has(entry.key)) {
    const after = w.tenant.find([entry], o.body.id)!
    return ok({ '@odata.context': `${w.context}${w.collection.path}/$entity`, ...after.body }, 'write')
  }
  return noContent()
}

/** `/assign`: the body's assignments (under `assignments` or the type's own name) replace the set. */
function assign(w: Write, o: TenantObject, body: unknown): GraphResponse {
  if (!isObject(body)) return bad('The request body must be a JSON object.')
  const key = Object.keys(body).find((k) => /assignments$/i.test(k) && Array.isArray(body[k]))
  if (!key) return bad(`The assign action needs a collection of assignments (e.g. 'assignments').`)
  const assignments = normalizeAssignments(w, o, body[key] as unknown[])
  if (!Array.isArray(assignments)) return assignments
  const before = o.assignments ?? []
  // isAssigned (read-only) is the service's: true once the object has an assignment.
  const computed = 'isAssigned' in o.body ? { isAssigned: assignments.length > 0 } : {}
  const { after } = w.tenant.patch(o.body.id, { assignments, ...computed }, { touch: false })!
  record(w, 'Action', o, modifiedProperties({ assignments: before }, { assignments }), 'assign')
  if (ASSIGN_WITHOUT_BODY.has(o.key)) return noContent()
  // The answer names the type of the object's assignments navigation property, as Graph's does.
  const context = `${w.context}Collection(microsoft.graph.${assignmentTypeOf(w, o)})`
  return ok({ '@odata.context': context, value: after.assignments ?? [] }, 'write')
}

/** The Graph type of an object's assignments (deviceManagementConfigurationPolicyAssignment, …). */
function assignmentTypeOf(w: Write, o: TenantObject): string {
  const base = typeOfPath(w.collection.path)!
  const own = annotatedType(o.body) ?? base
  return navigationType(own, 'assignments') ?? navigationType(base, 'assignments')!
}

const GROUP_TARGETS = new Set([
  '#microsoft.graph.groupAssignmentTarget',
  '#microsoft.graph.exclusionGroupAssignmentTarget',
])

const ASSIGNMENT_FILTER = getPolicyType('assignmentFilter')

/**
 * An assignment as Intune checks it: its properties and target against the schema, a group
 * target naming a group (without one it is refused, issue 23 item 5), and the group and filter it
 * names existing in the tenant. Intune refuses a group id the directory does not have with 400
 * "Invalid GroupId : {id} provided, a valid AADGroupId is expected." (the configuration
 * policies service's answer, quoted in github.com/Kvikku/IntuneAssignments/issues/16); a group
 * deleted since is no group either. A filter id the tenant does not have is refused the same way.
 * Read-only properties (id, source, sourceId) are ignored.
 */
function assignmentError(w: Write, type: string, a: Body, i: number): GraphResponse | undefined {
  const { id: _id, source: _source, sourceId: _sourceId, ...rest } = a
  const violation = schemaViolation(rest, type, `assignments[${i}]`)
  if (violation) return bad(violation.message)
  const target = a.target as Body
  const groupId = target.groupId
  if (GROUP_TARGETS.has(String(target['@odata.type']))) {
    if (typeof groupId !== 'string' || groupId === '')
      return intuneError('BadRequest', `assignments[${i}]: a group assignment target needs a groupId.`)
    if (!groupExists(w.tenant, groupId))
      return intuneError('BadRequest', `Invalid GroupId : ${groupId} provided, a valid AADGroupId is expected.`)
  }
  const filterId = target.deviceAndAppManagementAssignmentFilterId
  if (typeof filterId === 'string' && filterId !== '' && !w.tenant.find([ASSIGNMENT_FILTER], filterId))
    return intuneError(
      'BadRequest',
      `Invalid AssignmentFilterId : ${filterId} provided, the assignment filter does not exist.`,
    )
  return undefined
}

function normalizeAssignments(w: Write, o: TenantObject, raw: unknown[]): Assignment[] | GraphResponse {
  const objectId = o.body.id
  const type = assignmentTypeOf(w, o)
  const out: Assignment[] = []
  const seen = new Set<string>()
  for (const [i, a] of raw.entries()) {
    if (!isObject(a) || !isObject(a.target) || typeof a.target['@odata.type'] !== 'string')
      return bad(`assignments[${i}]: an assignment with a target naming its '@odata.type'.`)
    const refused = assignmentError(w, type, a, i)
    if (refused) return refused
    const { id: _id, '@odata.type': _type, source: _source, sourceId: _sourceId, ...rest } = a
    const targetKey =
      typeof a.target.groupId === 'string'
        ? a.target.groupId
        : String(a.target['@odata.type']).replace(/^#microsoft\.graph\./, '')
    let id = `${objectId}_${targetKey}`
    if (seen.has(id)) id = `${id}_${i}`
    seen.add(id)
    out.push({ ...rest, id, target: a.target })
  }
  return out
}

/** `POST {id}/assignments` adds one; `DELETE {id}/assignments/{assignmentId}` removes one. */
function assignmentMember(
  w: Write,
  o: TenantObject,
  method: string,
  assignmentId: string | undefined,
  body: unknown,
): GraphResponse {
  const before = o.assignments ?? []
  if (method === 'POST' && assignmentId === undefined) {
    const added = normalizeAssignments(w, o, [body])
    if (!Array.isArray(added)) return added
    if (before.some((a) => a.id === added[0]!.id))
      return graphError(409, 'Conflict', `An assignment with id '${added[0]!.id}' already exists.`, 'write')
    const assignments = [...before, added[0]!]
    const computed = 'isAssigned' in o.body ? { isAssigned: true } : {}
    const { after } = w.tenant.patch(o.body.id, { assignments, ...computed }, { touch: false })!
    record(w, 'Action', o, modifiedProperties({ assignments: before }, { assignments }), 'assign')
    const answer = after.assignments!.find((a) => a.id === added[0]!.id)!
    const context = `${w.context}${w.collection.path}('${o.body.id}')/assignments/$entity`
    return ok({ '@odata.context': context, ...answer }, 'write', 201)
  }
  if (method === 'DELETE' && assignmentId !== undefined) {
    if (!before.some((a) => a.id === assignmentId))
      return graphError(
        404,
        'ResourceNotFound',
        `No assignments with id '${assignmentId}' under '${o.body.id}'.`,
        'write',
      )
    const assignments = before.filter((a) => a.id !== assignmentId)
    w.tenant.patch(o.body.id, { assignments }, { touch: false })
    record(w, 'Action', o, modifiedProperties({ assignments: before }, { assignments }), 'unassign')
    return noContent()
  }
  return noRoute(method, `${w.collection.path.split('/').pop()}/key/assignments`)
}

/** `updateDefinitionValues`: `{added, updated, deletedIds}` against the policy's definition values. */
function updateDefinitionValues(w: Write, o: TenantObject, body: unknown): GraphResponse {
  if (!isObject(body)) return bad('The request body must be a JSON object.')
  const secret = secretError(body, '', o.body.id)
  if (secret) return secret
  const values = o.children('definitionValues').map((v) => ({ ...v }))
  const {
    added = [],
    updated = [],
    deletedIds = [],
  } = body as { added?: unknown; updated?: unknown; deletedIds?: unknown }
  if (!Array.isArray(added) || !Array.isArray(updated) || !Array.isArray(deletedIds))
    return bad('added, updated and deletedIds must be collections.')
  for (const id of deletedIds) {
    const n = values.findIndex((v) => v.id === id)
    if (n < 0)
      return graphError(
        404,
        'ResourceNotFound',
        `No definitionValues with id '${String(id)}' under '${o.body.id}'.`,
        'write',
      )
    values.splice(n, 1)
  }
  for (const [i, u] of updated.entries()) {
    if (!isObject(u) || typeof u.id !== 'string') return bad(`updated[${i}]: a groupPolicyDefinitionValue with its id.`)
    const n = values.findIndex((v) => v.id === u.id)
    if (n < 0)
      return graphError(404, 'ResourceNotFound', `No definitionValues with id '${u.id}' under '${o.body.id}'.`, 'write')
    const current = values[n]!
    values[n] = {
      ...current,
      ...(typeof u.enabled === 'boolean' ? { enabled: u.enabled } : {}),
      ...(Array.isArray(u.presentationValues)
        ? { presentationValues: presentationValues(u.presentationValues, String(current.id)) }
        : {}),
    }
  }
  for (const [i, a] of added.entries()) {
    if (!isObject(a)) return bad(`added[${i}]: a groupPolicyDefinitionValue.`)
    const bind =
      typeof a['definition@odata.bind'] === 'string'
        ? /groupPolicyDefinitions\('([^']+)'\)/.exec(a['definition@odata.bind'])?.[1]
        : undefined
    if (bind === undefined)
      return bad(`added[${i}]: 'definition@odata.bind' must name a groupPolicyDefinitions('{id}').`)
    const definition = groupPolicyDefinition(bind)
    if (!definition) return graphError(404, 'ResourceNotFound', `No groupPolicyDefinition with id '${bind}'.`, 'write')
    if (values.some((v) => (v.definition as Body | undefined)?.id === bind))
      return bad(`added[${i}]: the policy already has a value for definition '${bind}'.`)
    const id = randomUUID()
    values.push({
      id,
      enabled: a.enabled !== false,
      configurationType: 'policy',
      definition,
      presentationValues: presentationValues(Array.isArray(a.presentationValues) ? a.presentationValues : [], id),
    })
  }
  const before = o.children('definitionValues')
  const patched = w.tenant.patch(o.body.id, { children: { definitionValues: values } })!
  record(
    w,
    'Action',
    patched.after,
    modifiedProperties({ definitionValues: before }, { definitionValues: values }),
    'updateDefinitionValues',
  )
  return noContent()
}

const presentationValues = (raw: unknown[], valueId: string) =>
  raw.filter(isObject).map((p, i) => {
    const { 'presentation@odata.bind': _bind, ...rest } = p
    return { ...rest, id: typeof p.id === 'string' ? p.id : `${valueId}-pv-${i}` }
  })

/** `scheduleActionsForRules`: the policy's scheduled actions replaced (still exactly one block). */
function scheduleActionsForRules(w: Write, o: TenantObject, body: unknown): GraphResponse {
  const rules = isObject(body) ? body.deviceComplianceScheduledActionForRules : undefined
  if (!Array.isArray(rules))
    return bad(`The request body needs 'deviceComplianceScheduledActionForRules', a collection.`)
  const actions = scheduledActions(o.body.id, rules)
  if (!Array.isArray(actions)) return actions
  const before = o.children('scheduledActionsForRule')
  const patched = w.tenant.patch(o.body.id, { children: { scheduledActionsForRule: actions } })!
  record(
    w,
    'Action',
    patched.after,
    modifiedProperties({ scheduledActionsForRule: before }, { scheduledActionsForRule: actions }),
    'scheduleActionsForRules',
  )
  return noContent()
}

/**
 * The path without an OData type-cast segment after the key (`{id}/microsoft.graph.x/assign`):
 * Graph accepts a cast to the entity's own type or one it derives from (issue 23, item 11);
 * undefined for a cast to a type the entity is not.
 */
export function withoutCast(path: string[], type: string): string[] | undefined {
  const cast = path[1]
  if (cast === undefined || !cast.startsWith('microsoft.graph.')) return path
  return derivesFrom(type, cast.slice('microsoft.graph.'.length)) ? [path[0]!, ...path.slice(2)] : undefined
}

/**
 * `compliancePolicies/{id}/setScheduledActions` (settings catalog compliance): the actions for
 * noncompliance replaced, answered with the new set
 * (https://learn.microsoft.com/graph/api/intune-deviceconfigv2-devicemanagementcompliancepolicy-setscheduledactions).
 */
function setScheduledActions(w: Write, o: TenantObject, body: unknown): GraphResponse {
  const rules = isObject(body) ? body.scheduledActions : undefined
  if (!Array.isArray(rules)) return bad(`The request body needs 'scheduledActions', a collection.`)
  const actions = scheduledActions(o.body.id, rules)
  if (!Array.isArray(actions)) return actions
  const before = o.children('scheduledActionsForRule')
  const patched = w.tenant.patch(o.body.id, { children: { scheduledActionsForRule: actions } })!
  const modified = modifiedProperties({ scheduledActionsForRule: before }, { scheduledActionsForRule: actions })
  record(w, 'Action', patched.after, modified, 'setScheduledActions')
  const value = patched.after.children('scheduledActionsForRule')
  const context = `${w.context}Collection(microsoft.graph.deviceManagementComplianceScheduledActionForRule)`
  return ok({ '@odata.context': context, value }, 'write')
}

/**
 * `POST notificationMessageTemplates/{id}/localizedNotificationMessages`: one locale's message
 * added, answered with it (https://learn.microsoft.com/graph/api/intune-notification-localizednotificationmessage-create).
 * IntuneCD's update writes a re-created template's messages so (issue 23's update pass). A second
 * message for a locale the template has is a conflict.
 */
function createLocalizedMessage(w: Write, o: TenantObject, body: unknown): GraphResponse {
  if (!isObject(body)) return bad('The request body must be a JSON object.')
  const { id: _id, lastModifiedDateTime: _modified, ...fields } = body
  const violation = schemaViolation(fields, 'localizedNotificationMessage')
  if (violation) return bad(violation.message)
  if (typeof fields.locale !== 'string' || fields.locale === '') return bad(`The property 'locale' is required.`)
  const before = o.children('localizedNotificationMessages')
  const id = `${o.body.id}_${fields.locale.toLowerCase()}`
  if (before.some((m) => m.id === id))
    return graphError(409, 'Conflict', `A localizedNotificationMessage with id '${id}' already exists.`, 'write')
  const message = { ...fields, id, lastModifiedDateTime: new Date().toISOString() }
  const messages = [...before, message]
  // The template's defaultLocale (read-only) follows its default message.
  const locale = fields.isDefault === true ? { defaultLocale: fields.locale } : {}
  const patched = w.tenant.patch(o.body.id, { ...locale, children: { localizedNotificationMessages: messages } })!
  const modified = modifiedProperties(
    { localizedNotificationMessages: before },
    { localizedNotificationMessages: messages },
  )
  record(w, 'Patch', patched.after, modified)
  const answer = patched.after.children('localizedNotificationMessages').find((m) => m.id === id)!
  const context = `${w.context}${w.collection.path}('${o.body.id}')/localizedNotificationMessages/$entity`
  // 200, not the 201 the page shows: the service that creates templates with 200 (IntuneCD #178)
  // answers their messages so too, and IntuneCD's update expects 200 for both.
  return ok({ '@odata.context': context, ...answer }, 'write', 200)
}

/** The parameters of `templates/{id}/createInstance`. */
const CREATE_INSTANCE_PARAMETERS = new Set(['displayName', 'description', 'settingsDelta', 'roleScopeTagIds'])

/**
 * `POST deviceManagement/templates/{templateId}/createInstance` (`w.collection` is the intents
 * collection): a new intent of that template with the given settings, 200 with it
 * (https://learn.microsoft.com/graph/api/intune-deviceintent-devicemanagementtemplate-createinstance;
 * parameters displayName, description, settingsDelta, roleScopeTagIds). A parameter the action
 * does not declare is refused, as OData refuses one for any action.
 */
export function createIntentInstance(w: Write, templateId: string, body: unknown): GraphResponse {
  if (!isObject(body)) return bad('The request body must be a JSON object.')
  const unknown = Object.keys(body).find((k) => !CREATE_INSTANCE_PARAMETERS.has(k))
  if (unknown !== undefined)
    return bad(
      `The parameter '${unknown}' in the request payload is not a valid parameter for the operation 'createInstance'.`,
    )
  const { settingsDelta = [], ...fields } = body
  if (!Array.isArray(settingsDelta)) return bad(`The parameter 'settingsDelta' must be a collection.`)
  for (const [i, setting] of settingsDelta.entries()) {
    if (!isObject(setting)) return bad(`settingsDelta[${i}]: a deviceManagementSettingInstance object.`)
    const violation = schemaViolation(setting, 'deviceManagementSettingInstance', `settingsDelta[${i}]`)
    if (violation) return bad(violation.message)
  }
  const settings = settingsDelta.map((setting) => {
    const { id: _id, ...rest } = setting as Body
    return rest
  })
  const answer = create(w, { ...fields, templateId, settings })
  return answer.status === 201 ? { ...answer, status: 200 } : answer
}

/** A write under a catalog collection: `path` is the path after the collection. */
export function writeRoute(w: Write, path: string[], method: string, body: unknown): GraphResponse {
  const name = w.collection.path.split('/').pop()!
  if (path.length === 0) return method === 'POST' ? create(w, body) : noRoute(method, name)
  const o = w.tenant.find(w.collection.entries, path[0]!)
  if (!o || (w.collection.odataType && o.body['@odata.type'] !== w.collection.odataType))
    return graphError(404, 'ResourceNotFound', `No ${name} with id '${path[0]}'`, 'write')
  const tail = withoutCast(path, annotatedType(o.body) ?? typeOfPath(w.collection.path)!)
  if (!tail) return graphError(400, 'BadRequest', `Resource not found for the segment '${path[1]}'.`, 'write')
  const entry = w.collection.entries.find((e) => e.key === o.key)!
  if (tail.length === 1) {
    if (method === 'PATCH' || method === 'PUT') return update(w, o, method, body)
    if (method === 'DELETE') {
      w.tenant.delete(o.body.id)
      record(w, 'Delete', o)
      return noContent()
    }
    return noRoute(method, `${name}/key`)
  }
  const action = tail[1]!
  if (action === 'assignments' && entry.assignments !== null && tail.length <= 3)
    return assignmentMember(w, o, method, tail[2], body)
  if (tail.length === 2 && method === 'POST') {
    if (action === 'assign' && entry.assignments !== null) return assign(w, o, body)
    if (action === 'updateDefinitionValues' && entry.key === 'groupPolicyConfiguration')
      return updateDefinitionValues(w, o, body)
    if (action === 'scheduleActionsForRules' && entry.key === 'deviceCompliancePolicy')
      return scheduleActionsForRules(w, o, body)
    if (action === 'setScheduledActions' && entry.key === 'compliancePolicy') return setScheduledActions(w, o, body)
    if (action === 'localizedNotificationMessages' && entry.key === 'notificationMessageTemplate')
      return createLocalizedMessage(w, o, body)
  }
  return graphError(400, 'BadRequest', `Resource not found for the segment '${action}'.`, 'write')
}
