import { canonicalJson } from '../../lib/canonical.ts'

/**
 * Readable diffs between two versions of an item (issue 13). Both sides are flattened into
 * entries keyed by what an admin would call them — a settings catalog setting by its definition,
 * an administrative template setting by its definition, an assignment by its group, a scope tag
 * by its id — and labelled with the names an admin knows. Normalisation makes noise impossible:
 * arrays are compared as sets (or keyed by identity), masked secrets (`****`) never differ, and
 * ids compare case-insensitively with the empty GUID meaning none.
 */

export type Change = {
  path: string
  label: string
  kind: 'added' | 'removed' | 'changed'
  before: unknown
  after: unknown
}

export type Content = { payload: Record<string, unknown>; assignments: readonly Record<string, unknown>[] }

/** Names to label with: setting definitions, groups, assignment filters, scope tags (by id). */
export type DiffNames = {
  settingDefinitions: ReadonlyMap<string, { displayName: string; options: ReadonlyMap<string, string> }>
  groups: ReadonlyMap<string, string>
  filters: ReadonlyMap<string, string>
  scopeTags: ReadonlyMap<string, string>
}

export type Entry = { label: string; value: unknown }

/**
 * Fields Graph maintains itself on every write: its `version` counter and the timestamps. Nobody
 * changes them, so a diff never lists them (the version history shows when a version was captured).
 */
const SERVER_MANAGED = ['version', 'createdDateTime', 'lastModifiedDateTime', '@odata.context', '@odata.etag']

const EMPTY_GUID = '00000000-0000-0000-0000-000000000000'
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const MASKED = /^\*{3,}$/

/** A value as compared: GUIDs lower-cased, the empty GUID as null. */
function comparable(value: unknown): unknown {
  if (typeof value === 'string' && GUID.test(value)) return value === EMPTY_GUID ? null : value.toLowerCase()
  if (Array.isArray(value)) return value.map(comparable).sort((a, b) => (canonicalJson(a) < canonicalJson(b) ? -1 : 1))
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v)]))
  return value
}

const isMasked = (value: unknown) => typeof value === 'string' && MASKED.test(value)

/** `passwordMinimumLength` → `Password minimum length`. */
export function humanise(key: string): string {
  const words = key
    .replace(/^@odata\./, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** The setting definition ids a payload's settings use (their children's included). */
export function settingDefinitionIds(payload: Record<string, unknown>): string[] {
  const out = new Set<string>()
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk)
    else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'settingDefinitionId' && typeof v === 'string') out.add(v)
        else walk(v)
      }
    }
  }
  walk(payload.settings)
  return [...out]
}

class Flattener {
  readonly entries = new Map<string, Entry>()
  readonly names: DiffNames
  constructor(names: DiffNames) {
    this.names = names
  }

  add(path: string, label: string, value: unknown) {
    this.entries.set(path, { label, value })
  }

  /** A settings catalog setting instance and its children, one entry per definition. */
  settingInstance(instance: Record<string, unknown>, parentPath: string) {
    const id = typeof instance.settingDefinitionId === 'string' ? instance.settingDefinitionId : 'unknown'
    const path = `${parentPath}/${id}`
    const def = this.names.settingDefinitions.get(id)
    const label = def?.displayName ?? id
    const choice = instance.choiceSettingValue as Record<string, unknown> | undefined
    const simple = instance.simpleSettingValue as Record<string, unknown> | undefined
    if (choice) {
      const value = choice.value
      this.add(path, label, typeof value === 'string' ? (def?.options.get(value) ?? value) : value)
      for (const child of (choice.children as Record<string, unknown>[] | undefined) ?? [])
        this.settingInstance(child, path)
    } else if (simple) {
      this.add(path, label, simple.value)
    } else if (Array.isArray(instance.simpleSettingCollectionValue)) {
      this.add(
        path,
        label,
        (instance.simpleSettingCollectionValue as Record<string, unknown>[]).map((v) => v.value),
      )
    } else if (Array.isArray(instance.choiceSettingCollectionValue)) {
      const values = (instance.choiceSettingCollectionValue as Record<string, unknown>[]).map((v) =>
        typeof v.value === 'string' ? (def?.options.get(v.value) ?? v.value) : v.value,
      )
      this.add(path, label, values)
    } else if (Array.isArray(instance.groupSettingCollectionValue) || instance.groupSettingValue) {
      const groups = (instance.groupSettingCollectionValue as Record<string, unknown>[] | undefined) ?? [
        instance.groupSettingValue as Record<string, unknown>,
      ]
      groups.forEach((group, i) => {
        for (const child of (group.children as Record<string, unknown>[] | undefined) ?? [])
          this.settingInstance(child, `${path}[${i}]`)
      })
    } else {
      const {
        '@odata.type': _type,
        settingDefinitionId: _id,
        settingInstanceTemplateReference: _ref,
        ...rest
      } = instance
      this.add(path, label, rest)
    }
  }

  /**
   * A template-based (intent) setting as Graph serves it: a deviceManagementSettingInstance with
   * `definitionId` and its value as JSON in `valueJson` (one entry per definition).
   */
  intentSetting(setting: Record<string, unknown>) {
    const id = String(setting.definitionId)
    let value: unknown = setting.value
    if (typeof setting.valueJson === 'string') {
      try {
        value = JSON.parse(setting.valueJson)
      } catch {
        value = setting.valueJson
      }
    }
    this.add(`settings/${id}`, this.names.settingDefinitions.get(id)?.displayName ?? id, value)
  }

  /** Administrative templates: one entry for the state, one per presentation value. */
  definitionValue(value: Record<string, unknown>) {
    const definition = (value.definition ?? {}) as Record<string, unknown>
    const id = typeof definition.id === 'string' ? definition.id : String(value.id)
    const name = typeof definition.displayName === 'string' ? definition.displayName : id
    const path = `definitionValues/${id}`
    this.add(`${path}/enabled`, name, value.enabled === false ? 'Disabled' : 'Enabled')
    for (const pv of (value.presentationValues as Record<string, unknown>[] | undefined) ?? []) {
      const presentation = (pv.presentation ?? {}) as Record<string, unknown>
      const pid = typeof presentation.id === 'string' ? presentation.id : String(pv.id)
      const plabel = typeof presentation.label === 'string' ? presentation.label : pid
      const { '@odata.type': _t, id: _id, presentation: _p, ...rest } = pv
      this.add(
        `${path}/${pid}`,
        `${name}: ${plabel}`,
        'value' in rest ? rest.value : 'values' in rest ? rest.values : rest,
      )
    }
  }

  assignment(assignment: Record<string, unknown>) {
    const target = (assignment.target ?? {}) as Record<string, unknown>
    const type =
      typeof target['@odata.type'] === 'string'
        ? target['@odata.type'].replace(/^#microsoft\.graph\./, '').replace(/AssignmentTarget$/, '')
        : 'unknown'
    const groupId = typeof target.groupId === 'string' ? target.groupId.toLowerCase() : undefined
    const who = groupId
      ? `group ${this.names.groups.get(groupId) ?? groupId}`
      : type === 'allDevices'
        ? 'all devices'
        : type === 'allLicensedUsers'
          ? 'all users'
          : type
    const intent = type === 'exclusionGroup' ? 'Exclude' : 'Include'
    const filterId =
      typeof target.deviceAndAppManagementAssignmentFilterId === 'string'
        ? target.deviceAndAppManagementAssignmentFilterId.toLowerCase()
        : null
    const filterType = target.deviceAndAppManagementAssignmentFilterType
    const filter =
      filterId && filterId !== EMPTY_GUID && filterType !== 'none'
        ? `${filterType === 'exclude' ? 'exclude' : 'include'} filter ${this.names.filters.get(filterId) ?? filterId}`
        : 'no filter'
    // Graph applies no filter to an exclusion: it reads "excluded", not "no filter".
    const value = [
      typeof assignment.intent === 'string' ? assignment.intent : undefined,
      intent === 'Exclude' ? 'excluded' : filter,
    ]
      .filter(Boolean)
      .join(', ')
    this.add(`assignments/${type}/${groupId ?? ''}`, `Assignment: ${intent} ${who}`, value)
  }

  /** Any other field: objects by key, arrays of objects with ids by id, other arrays as sets. */
  generic(value: unknown, path: string, label: string) {
    if (Array.isArray(value)) {
      const keyed = value.every(
        (v) =>
          v !== null &&
          typeof v === 'object' &&
          !Array.isArray(v) &&
          typeof (v as Record<string, unknown>).id === 'string',
      )
      if (keyed && value.length > 0) {
        for (const v of value as Record<string, unknown>[]) {
          const { id, ...rest } = v
          const name = typeof rest.displayName === 'string' ? rest.displayName : String(id)
          this.generic(rest, `${path}[${String(id)}]`, `${label}: ${name}`)
        }
      } else this.add(path, label, value)
      return
    }
    if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value))
        this.generic(
          v,
          path === '' ? key : `${path}/${key}`,
          label === '' ? humanise(key) : `${label} › ${humanise(key)}`,
        )
      return
    }
    this.add(path, label, value)
  }

  content({ payload, assignments }: Content) {
    const {
      settings,
      definitionValues,
      roleScopeTagIds: ids,
      roleScopeTags,
      id: _id,
      '@odata.type': _type,
      ...rest
    } = payload
    // Policy sets and assignment filters name the list roleScopeTags.
    const roleScopeTagIds = ids ?? roleScopeTags
    if (Array.isArray(settings)) {
      for (const setting of settings as Record<string, unknown>[]) {
        const instance = setting.settingInstance as Record<string, unknown> | undefined
        if (instance) this.settingInstance(instance, 'settings')
        else if (typeof setting.definitionId === 'string') this.intentSetting(setting)
        else this.generic(setting, `settings[${String(setting.id)}]`, 'Setting')
      }
    } else if (settings !== undefined) this.generic(settings, 'settings', 'Settings')
    if (Array.isArray(definitionValues))
      for (const v of definitionValues as Record<string, unknown>[]) this.definitionValue(v)
    if (Array.isArray(roleScopeTagIds)) {
      for (const tag of roleScopeTagIds as unknown[]) {
        const id = String(tag)
        this.add(
          `roleScopeTagIds/${id}`,
          `Scope tag: ${id === '0' ? 'Default' : (this.names.scopeTags.get(id) ?? id)}`,
          'assigned',
        )
      }
    }
    for (const key of SERVER_MANAGED) delete rest[key]
    this.generic(rest, '', '')
    for (const assignment of assignments) this.assignment(assignment)
    return this.entries
  }
}

/** A content as the diff sees it: one labelled value per setting path (drift compares these, issue 25). */
export function flattenContent(content: Content, names: DiffNames): Map<string, Entry> {
  return new Flattener(names).content(content)
}

/** Whether two flattened values are the same setting value as a diff judges it (masked secrets never differ). */
export const sameValue = (a: unknown, b: unknown): boolean =>
  isMasked(a) || isMasked(b) || canonicalJson(comparable(a)) === canonicalJson(comparable(b))

/** The changes from one content to another, ordered by path. */
export function diffContents(from: Content | null, to: Content | null, names: DiffNames): Change[] {
  const before = from ? new Flattener(names).content(from) : new Map<string, Entry>()
  const after = to ? new Flattener(names).content(to) : new Map<string, Entry>()
  const changes: Change[] = []
  for (const path of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const b = before.get(path)
    const a = after.get(path)
    if (b && a) {
      if (isMasked(b.value) || isMasked(a.value)) continue
      if (canonicalJson(comparable(b.value)) === canonicalJson(comparable(a.value))) continue
      changes.push({ path, label: a.label, kind: 'changed', before: b.value, after: a.value })
    } else if (a) changes.push({ path, label: a.label, kind: 'added', before: null, after: a.value })
    else if (b) changes.push({ path, label: b.label, kind: 'removed', before: b.value, after: null })
  }
  return changes
}
