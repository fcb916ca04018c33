import type { OperationType, PolicyType, Run, RunFailure, RunOutcome, Selection } from './types.ts'

export const UNKNOWN_OPERATION = 'Unknown operation'

/** The API labels types; a missing label (an older server, a corrupt row) never breaks a page. */
export const typeLabel = (run: Pick<Run, 'type_label'>) => run.type_label?.trim() || UNKNOWN_OPERATION

/** Who started it: a person, the schedule that started a system run ("Schedule: Nightly sync"), or the system. */
export const initiatorLabel = (run: Pick<Run, 'initiator'> & Partial<Pick<Run, 'schedule'>>) =>
  run.initiator?.name ?? (run.schedule ? `Schedule: ${run.schedule.name}` : 'System')

/** The server's status label ("Cancelling…" included); the console never re-derives it. */
export const statusLabel = (run: Pick<Run, 'status_label'>) => run.status_label

const OUTCOMES: Record<RunOutcome, { label: string; color: string }> = {
  succeeded: { label: 'Succeeded', color: 'teal' },
  partially_succeeded: { label: 'Partially succeeded', color: 'yellow' },
  failed: { label: 'Failed', color: 'red' },
  cancelled: { label: 'Cancelled', color: 'gray' },
}
export const RUN_OUTCOMES = Object.keys(OUTCOMES) as RunOutcome[]
export const outcomeLabel = (outcome: RunOutcome | null) => (outcome ? OUTCOMES[outcome].label : '—')
export const outcomeColor = (outcome: RunOutcome | null) => (outcome ? OUTCOMES[outcome].color : 'blue')

/** Counts in reading order; the rest follow alphabetically. */
const COUNT_ORDER = [
  'total',
  'processed',
  'created',
  'updated',
  'unchanged',
  'removed',
  'succeeded',
  'failed',
  'skipped',
  'warnings',
]
export function orderedCounts(counts: Record<string, number | undefined>): [string, number][] {
  const entries = Object.entries(counts).filter((e): e is [string, number] => typeof e[1] === 'number')
  const rank = (key: string) => (COUNT_ORDER.includes(key) ? COUNT_ORDER.indexOf(key) : COUNT_ORDER.length)
  return entries.sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]))
}
export const countLabel = (key: string) => key.charAt(0).toUpperCase() + key.slice(1).replaceAll('_', ' ')

/** What an admin should do about a failure: the fix the failure's operation type gives for its code (GET /api/operation-types). */
export function failureFix(
  failure: Pick<RunFailure, 'code'>,
  type: Pick<OperationType, 'failure_codes'> | undefined,
): string | null {
  return type?.failure_codes.find((f) => f.code === failure.code)?.fix ?? null
}

export const DEFAULT_SELECTION: Selection = {
  policy_types: [],
  categories: [],
  include_foundations: true,
  include_dependencies: true,
  mode: 'full',
}

/** The selection a run was started with (context.selection), or null for runs that have none. */
export function selectionOf(run: Pick<Run, 'context'>): Selection | null {
  const raw = run.context.selection as Partial<Selection> | undefined
  if (!raw || typeof raw !== 'object') return null
  return {
    policy_types: Array.isArray(raw.policy_types)
      ? raw.policy_types.filter((x): x is string => typeof x === 'string')
      : [],
    categories: Array.isArray(raw.categories) ? raw.categories.filter((x): x is string => typeof x === 'string') : [],
    include_foundations: raw.include_foundations !== false,
    include_dependencies: raw.include_dependencies !== false,
    mode: raw.mode === 'quick' ? 'quick' : 'full',
  }
}

export function describeSelection(selection: Selection, catalog: PolicyType[] = []): string {
  const label = (key: string) => catalog.find((t) => t.key === key)?.label ?? key
  const scope =
    selection.policy_types.length === 0 && selection.categories.length === 0
      ? 'Full inventory'
      : [
          selection.policy_types.length > 0 ? `Types: ${selection.policy_types.map(label).join(', ')}` : null,
          selection.categories.length > 0 ? `Categories: ${selection.categories.join(', ')}` : null,
        ]
          .filter(Boolean)
          .join(' · ')
  const flags = [
    selection.include_foundations ? 'foundations' : null,
    selection.include_dependencies ? 'dependencies' : null,
  ].filter(Boolean)
  const described =
    flags.length > 0 ? `${scope} (with ${flags.join(' and ')})` : `${scope} (no foundations or dependencies)`
  return selection.mode === 'quick' ? `Quick: ${described}` : described
}

/** A machine code as words: `missing_permission` → "Missing permission". */
export const codeLabel = (code: string) => countLabel(code)

/**
 * A run's failures as people read them: one entry per problem (code and fix), with every subject it
 * affects, so one missing permission is said once with its fix, not once per type it blocked.
 */
export function groupFailures(
  failures: readonly RunFailure[],
  fixOf: (failure: RunFailure) => string | null | undefined,
): { code: string; fix: string | null; failures: RunFailure[] }[] {
  const groups = new Map<string, { code: string; fix: string | null; failures: RunFailure[] }>()
  for (const failure of failures) {
    const fix = fixOf(failure) ?? null
    const key = `${failure.code}\u0000${fix ?? failure.message}`
    const group = groups.get(key) ?? { code: failure.code, fix, failures: [] }
    group.failures.push(failure)
    groups.set(key, group)
  }
  return [...groups.values()]
}

/** Input fields nobody needs to read: integrity digests of a frozen selection. */
const HIDDEN_INPUT = /(^|_)digest$/

/**
 * A run's stored input as labelled lines ("Params › Prefix: x"), without internals such as the
 * selection digest; the raw JSON stays one click away on the page.
 */
export function inputLines(context: Record<string, unknown>, prefix = ''): { label: string; value: string }[] {
  const lines: { label: string; value: string }[] = []
  for (const [key, value] of Object.entries(context)) {
    if (HIDDEN_INPUT.test(key)) continue
    const label = prefix ? `${prefix} › ${countLabel(key)}` : countLabel(key)
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      lines.push(...inputLines(value as Record<string, unknown>, label))
      continue
    }
    const text =
      value === null || value === undefined || value === ''
        ? '—'
        : typeof value === 'boolean'
          ? value
            ? 'Yes'
            : 'No'
          : Array.isArray(value)
            ? value.length === 0
              ? 'none'
              : value.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(', ')
            : typeof value === 'string' || typeof value === 'number'
              ? String(value)
              : JSON.stringify(value)
    lines.push({ label, value: text })
  }
  return lines
}
