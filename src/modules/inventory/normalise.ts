import { createHash } from 'node:crypto'
import type { ItemRead } from '../../graph/graph-client.ts'
import { displayNameOf, type PolicyTypeEntry } from '../../graph/policy-types.ts'
import { storableDate } from '../../lib/time.ts'
import { canonicalJson, normaliseValue, storableText } from '../../lib/canonical.ts'

/**
 * One Graph object as the inventory stores it. Normalisation makes the same object hash the
 * same however Graph served it: volatile fields (timestamps Graph bumps without a content
 * change, OData annotations) are dropped, object keys and arrays are sorted.
 */
export type NormalisedItem = {
  externalId: string
  displayName: string
  platform: string
  payload: Record<string, unknown>
  assignments: Record<string, unknown>[]
  contentHash: string
  graphLastModifiedAt: string | null
  references: ItemReference[]
  /** Setting definitions Graph expanded beside the settings (kept out of the payload and its hash). */
  definitions: SettingDefinitionRecord[]
}

/** What a readable diff needs of a settings catalog setting definition: its name, and its choice options' names. */
export type SettingDefinitionRecord = { id: string; displayName: string; options: Record<string, string> }

export type ItemReference = { kind: 'group' | 'foundation'; targetType: string; targetExternalId: string }

export { normaliseValue, storableText } from '../../lib/canonical.ts'

// Matched at the start of the type name (`windowsKioskConfiguration` is not iOS).
const PLATFORM_HINTS: readonly [RegExp, string][] = [
  [/^(windows|win32|win10|winget|office|microsoftstore|microsoftedge)/i, 'windows'],
  [/^(managed)?(ios|iphone|ipad)/i, 'iOS'],
  [/^(managed)?macos/i, 'macOS'],
  [/^(managed)?android|^aosp/i, 'android'],
  [/^linux/i, 'linux'],
]

/** The object's platform: from its `@odata.type` or `platforms`, else the type's only platform, else `all`. */
export function platformOf(entry: PolicyTypeEntry, item: Record<string, unknown>): string {
  for (const hint of [item['@odata.type'], item.platforms, item.platform]) {
    if (typeof hint !== 'string') continue
    const name = hint.replace(/^#microsoft\.graph\./, '')
    for (const [pattern, platform] of PLATFORM_HINTS) if (pattern.test(name)) return platform
  }
  return entry.platforms.length === 1 ? entry.platforms[0]! : 'all'
}

/** Groups and assignment filters of the assignments, scope tags and notification templates of the payload. */
export function referencesOf(
  payload: Record<string, unknown>,
  assignments: readonly Record<string, unknown>[],
): ItemReference[] {
  const refs = new Map<string, ItemReference>()
  const add = (kind: ItemReference['kind'], targetType: string, id: unknown) => {
    if (typeof id !== 'string' || id === '') return
    refs.set(`${targetType}\n${id}`, { kind, targetType, targetExternalId: id })
  }
  for (const assignment of assignments) {
    const target = assignment.target as Record<string, unknown> | undefined
    if (!target) continue
    add('group', 'group', target.groupId)
    add('foundation', 'assignmentFilter', target.deviceAndAppManagementAssignmentFilterId)
  }
  // Policy sets and assignment filters name the list roleScopeTags.
  // "0" is the built-in Default scope tag, which the inventory skips.
  const tags = payload.roleScopeTagIds ?? payload.roleScopeTags
  if (Array.isArray(tags)) for (const tag of tags) if (tag !== '0') add('foundation', 'roleScopeTag', tag)
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk)
    else if (value !== null && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        // Graph names "no notification" with the empty GUID: not a reference.
        if (key === 'notificationTemplateId')
          add('foundation', 'notificationMessageTemplate', v === '00000000-0000-0000-0000-000000000000' ? null : v)
        else walk(v)
      }
    }
  }
  walk(payload)
  return [...refs.values()]
}

/** Graph's last change, when it is a date PostgreSQL can hold. */
const lastModifiedOf = (item: Record<string, unknown>): string | null => {
  const value = item.lastModifiedDateTime ?? item.modifiedDateTime
  return typeof value === 'string' && storableDate(value) ? value : null
}

/**
 * Takes `settingDefinitions` (expanded by the settings read) out of a details' settings: Microsoft
 * edits a definition's texts without any change to the policy, so they must not be content.
 */
function splitDefinitions(details: Record<string, unknown>): {
  details: Record<string, unknown>
  definitions: SettingDefinitionRecord[]
} {
  if (!Array.isArray(details.settings)) return { details, definitions: [] }
  const definitions = new Map<string, SettingDefinitionRecord>()
  const settings = (details.settings as unknown[]).map((setting) => {
    if (setting === null || typeof setting !== 'object' || !('settingDefinitions' in setting)) return setting
    const { settingDefinitions, ...rest } = setting as Record<string, unknown>
    for (const def of Array.isArray(settingDefinitions) ? (settingDefinitions as Record<string, unknown>[]) : []) {
      if (typeof def.id !== 'string' || typeof def.displayName !== 'string') continue
      const options: Record<string, string> = {}
      for (const o of Array.isArray(def.options) ? (def.options as Record<string, unknown>[]) : [])
        if (typeof o.itemId === 'string' && typeof o.displayName === 'string')
          options[storableText(o.itemId)] = storableText(o.displayName)
      definitions.set(def.id, { id: storableText(def.id), displayName: storableText(def.displayName), options })
    }
    return rest
  })
  return { details: { ...details, settings }, definitions: [...definitions.values()] }
}

/** A read object (list item, per-object read, details, assignments) as one inventory row. */
export function normaliseRead(
  entry: PolicyTypeEntry,
  read: Pick<ItemRead, 'item' | 'object' | 'assignments' | 'details'>,
): NormalisedItem {
  const { details, definitions } = splitDefinitions(read.details)
  // Assignments are their own column; the list and the object read carry them under this name.
  const { assignments: _listed, ...merged } = { ...read.item, ...read.object, ...details } as Record<string, unknown>
  const payload = normaliseValue(merged) as Record<string, unknown>
  const assignments = normaliseValue(read.assignments ?? []) as Record<string, unknown>[]
  return {
    externalId: storableText(read.item.id),
    displayName: (normaliseValue(displayNameOf(entry, merged)) as string) || read.item.id,
    platform: platformOf(entry, merged),
    payload,
    assignments,
    contentHash: createHash('sha256').update(canonicalJson({ payload, assignments })).digest('hex'),
    graphLastModifiedAt: lastModifiedOf(merged),
    references: referencesOf(payload, assignments),
    definitions,
  }
}
