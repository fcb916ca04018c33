import { z } from 'zod'
import { GROUP_TYPE, type PolicyTypeEntry, policyTypesOfKind } from '../../graph/policy-types.ts'

/**
 * What an inventory sync reads (ADR 011). The default is the full inventory: every
 * supported policy type, no category filter, foundations and dependencies. `categories`
 * narrows the policy types (an empty list is no filter); foundations and dependencies are
 * switched by their flags.
 */
export type Selection = {
  policy_types: string[]
  categories: string[]
  include_foundations: boolean
  include_dependencies: boolean
  /** `quick` re-reads only what changed since the last sync (issue 13); `full` reads everything. */
  mode: SyncMode
}

export const SYNC_MODES = ['full', 'quick'] as const
export type SyncMode = (typeof SYNC_MODES)[number]

const POLICY_ENTRIES = policyTypesOfKind('policy')
const POLICY_KEYS = POLICY_ENTRIES.map((e) => e.key)
const POLICY_CATEGORIES = [...new Set(POLICY_ENTRIES.map((e) => e.category))]

const unknownOf = (values: readonly string[], known: readonly string[]) => values.filter((v) => !known.includes(v))

const keyList = (what: string, known: readonly string[], hint = '') =>
  z
    .array(z.string({ error: `each ${what} must be a string` }), { error: `must be a list of ${what}s` })
    .max(200, { error: `at most 200 ${what}s` })
    .superRefine((values, ctx) => {
      const unknown = [...new Set(unknownOf(values, known))]
      if (unknown.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown ${what}${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}${hint} (known: ${known.join(', ')})`,
        })
      }
    })

export const selectionInput = z
  .strictObject({
    policy_types: keyList(
      'policy type',
      POLICY_KEYS,
      '; foundations and groups are selected with include_foundations and include_dependencies',
    ).optional(),
    categories: keyList('category', POLICY_CATEGORIES).optional(),
    include_foundations: z.boolean({ error: 'must be true or false' }).optional(),
    include_dependencies: z.boolean({ error: 'must be true or false' }).optional(),
    mode: z
      .enum(SYNC_MODES, { error: 'must be full or quick' })
      .optional()
      .describe(
        'full (default) reads everything; quick re-reads only objects that are new, changed or touched by an audit event',
      ),
  })
  .meta({ id: 'InventorySelection', description: 'Omitted fields (or an omitted body) select the full inventory' })

export type SelectionInput = z.input<typeof selectionInput>

const sortedUnique = (values: readonly string[]) => [...new Set(values)].sort()

/**
 * The canonical selection, which becomes the run's context and identity: sorted, deduplicated,
 * and a list naming everything collapsed to the empty list ("all"), so the same selection
 * written differently is the same run.
 */
export function canonicalSelection(input: SelectionInput | undefined): Selection {
  const types = sortedUnique(input?.policy_types ?? [])
  const categories = sortedUnique(input?.categories ?? [])
  return {
    policy_types: types.length === POLICY_KEYS.length ? [] : types,
    categories: categories.length === POLICY_CATEGORIES.length ? [] : categories,
    include_foundations: input?.include_foundations ?? true,
    include_dependencies: input?.include_dependencies ?? true,
    mode: input?.mode ?? 'full',
  }
}

/** The units of work of a selection, in execution order: policy types, foundations, then groups. */
export function unitsOf(selection: Selection): PolicyTypeEntry[] {
  const policies = POLICY_ENTRIES.filter(
    (e) =>
      (selection.policy_types.length === 0 || selection.policy_types.includes(e.key)) &&
      (selection.categories.length === 0 || selection.categories.includes(e.category)),
  )
  const foundations = selection.include_foundations ? policyTypesOfKind('foundation') : []
  return [...policies, ...foundations, ...(selection.include_dependencies ? [GROUP_TYPE] : [])]
}

/** Why a selection selects nothing, or null when it selects something. */
export function emptySelectionReason(selection: Selection): string | null {
  if (unitsOf(selection).length > 0) return null
  return 'The selection reads nothing: no policy type is in the chosen categories, and foundations and dependencies are off'
}
