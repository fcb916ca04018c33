import type { RestoreMapping, RestorePlan, RestorePlanItem } from './api.ts'

/**
 * How a restore plan is reviewed (ADR 026): the writes first, then what is blocked (with its
 * reason), and the rest — skips and references that stay the same object — collapsed behind a
 * count. The sentence the confirmation shows is built here too, so the page and the dialog say
 * the same thing in the same words.
 */

export type PlanGroups = {
  /** create and update, in write order (those left out by the user included: they can be put back) */
  writes: RestorePlanItem[]
  blocked: RestorePlanItem[]
  skipped: RestorePlanItem[]
}

export function groupPlan(plan: RestorePlan): PlanGroups {
  const byPosition = [...plan.items].sort((a, b) => a.position - b.position)
  return {
    writes: byPosition.filter((i) => i.action === 'create' || i.action === 'update'),
    blocked: byPosition.filter((i) => i.action === 'blocked'),
    skipped: byPosition.filter((i) => i.action === 'skip'),
  }
}

/**
 * A reference the restore writes without: no target in this tenant (an object this plan creates is no gap,
 * and one deleted from this tenant is no choice to make: Graph refuses it, so it is left out, see isGone).
 */
export const isUnmapped = (m: RestoreMapping) => m.target_id === null && m.proposed_by !== 'restore' && !m.gone
/** Same tenant: the group or filter was deleted there; its assignments are left out, nothing to map. */
export const isGone = (m: RestoreMapping) => m.target_id === null && m.gone
/** References that need no review: the same object in the same tenant. */
export const isSameObject = (m: RestoreMapping) => m.proposed_by === 'same' && m.target_id !== null

export type MappingGroups = { review: RestoreMapping[]; same: RestoreMapping[]; unmapped: RestoreMapping[] }

export function groupMapping(plan: RestorePlan): MappingGroups {
  const unmapped = plan.mapping.filter(isUnmapped)
  const same = plan.mapping.filter(isSameObject)
  // Unmapped first: they block the restore until mapped or left out.
  const review = [...unmapped, ...plan.mapping.filter((m) => !isUnmapped(m) && !isSameObject(m))]
  return { review, same, unmapped }
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

const KIND_NOUNS: Record<RestoreMapping['kind'], [string, string]> = {
  group: ['group', 'groups'],
  assignment_filter: ['assignment filter', 'assignment filters'],
  scope_tag: ['scope tag', 'scope tags'],
  notification_template: ['notification template', 'notification templates'],
}
/** What the restore does without each kind of unmapped reference (src/modules/restore/content.ts). */
const LEFT_OUT: Record<RestoreMapping['kind'], [string, string]> = {
  group: ['its assignments will be left out', 'their assignments will be left out'],
  assignment_filter: [
    'assignments that use it are restored without a filter',
    'assignments that use them are restored without a filter',
  ],
  scope_tag: ['it will be left out', 'they will be left out'],
  notification_template: ['objects that use it cannot refer to it', 'objects that use them cannot refer to them'],
}

/** "25 groups are not mapped: their assignments will be left out", one sentence per kind. */
export function unmappedSentences(unmapped: readonly RestoreMapping[]): string[] {
  const kinds = [...new Set(unmapped.map((m) => m.kind))]
  return kinds.map((kind) => {
    const n = unmapped.filter((m) => m.kind === kind).length
    const [one, many] = KIND_NOUNS[kind]
    const [itOne, itMany] = LEFT_OUT[kind]
    return `${plural(n, one, many)} ${n === 1 ? 'is' : 'are'} not mapped: ${n === 1 ? itOne : itMany}`
  })
}

/** "1 group no longer exists in Contoso: its assignments will be left out", one sentence per kind. */
export function goneSentences(gone: readonly RestoreMapping[], tenantName: string): string[] {
  const kinds = [...new Set(gone.map((m) => m.kind))]
  return kinds.map((kind) => {
    const n = gone.filter((m) => m.kind === kind).length
    const [one, many] = KIND_NOUNS[kind]
    const [itOne, itMany] = LEFT_OUT[kind]
    return `${plural(n, one, many)} no longer ${n === 1 ? 'exists' : 'exist'} in ${tenantName}: ${n === 1 ? itOne : itMany}`
  })
}

/** The writes that will happen (items left out by the user do not count). */
export function writeCounts(plan: RestorePlan) {
  const active = plan.items.filter((i) => !i.excluded)
  return {
    create: active.filter((i) => i.action === 'create').length,
    update: active.filter((i) => i.action === 'update').length,
  }
}

/** "Create 3 and update 1 policy in Fabrikam" (the noun agrees with the last number). */
export function writesSentence(plan: RestorePlan, tenantName: string): string {
  const { create, update } = writeCounts(plan)
  if (create + update === 0) return `Nothing to write in ${tenantName}`
  const last = update > 0 ? update : create
  const noun = last === 1 ? 'policy' : 'policies'
  const parts = [create > 0 ? `create ${create}` : null, update > 0 ? `update ${update}` : null].filter(Boolean)
  const text = `${parts.join(' and ')} ${noun} in ${tenantName}`
  return text[0]!.toUpperCase() + text.slice(1)
}

/** The whole confirmation: "Create 3 and update 1 policy in Fabrikam; 25 groups are not mapped: their assignments will be left out." */
export function confirmationSentence(plan: RestorePlan, tenantName: string): string {
  return (
    [
      writesSentence(plan, tenantName),
      ...unmappedSentences(plan.mapping.filter(isUnmapped)),
      ...goneSentences(plan.mapping.filter(isGone), tenantName),
    ].join('; ') + '.'
  )
}

export const isCrossTenant = (plan: RestorePlan) => plan.source_tenant_id !== plan.target_tenant_id

/** Skips counted by their reason ("identical: 238"), for the collapsed line. */
export function skipReasons(skipped: readonly RestorePlanItem[]): { reason: string; count: number }[] {
  const counts = new Map<string, number>()
  for (const i of skipped)
    counts.set(i.reason ?? 'nothing to write', (counts.get(i.reason ?? 'nothing to write') ?? 0) + 1)
  return [...counts.entries()].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count)
}
