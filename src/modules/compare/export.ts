import type { ComparisonJson } from './presenter.ts'
import type { ComparisonRowStatus } from '../../db/schema.ts'

type RowObject = { id?: string; name?: string } | null
type Row = {
  status: string
  policyType: string
  left: RowObject
  right: RowObject
  changes: Record<string, unknown>[]
}

const STATUS_LABELS: Record<string, string> = {
  only_left: 'Only left',
  only_right: 'Only right',
  different: 'Different',
  same: 'Same',
}

/** A value as one line of text: strings as they are, anything else as JSON. */
export const showValue = (value: unknown) =>
  value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)

const csvCell = (value: string) =>
  /[",\r\n]/.test(value) || /^[=+\-@]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value

/** RFC 4180 CSV, one line per changed setting (a row without changes is one line); cells that a spreadsheet would run as a formula are quoted. */
export async function* comparisonCsv(rows: AsyncIterable<Row>): AsyncGenerator<string> {
  yield 'status,policy_type,left_name,left_id,right_name,right_id,setting,change,left_value,right_value\r\n'
  for await (const row of rows) {
    const base = [
      row.status,
      row.policyType,
      row.left?.name ?? '',
      row.left?.id ?? '',
      row.right?.name ?? '',
      row.right?.id ?? '',
    ]
    const lines =
      row.changes.length === 0
        ? [[...base, '', '', '', '']]
        : row.changes.map((c) => [...base, String(c.label), String(c.kind), showValue(c.before), showValue(c.after)])
    yield lines.map((cells) => cells.map(csvCell).join(',') + '\r\n').join('')
  }
}

const mdCell = (value: string) => value.replaceAll('|', '\\|').replaceAll(/\r?\n/g, ' ')

/** Markdown: a summary, the mapping, then a section per status (each difference with its settings). */
export async function* comparisonMarkdown(
  c: ComparisonJson,
  statuses: readonly ComparisonRowStatus[],
  rowsOf: (status: ComparisonRowStatus) => AsyncIterable<Row>,
): AsyncGenerator<string> {
  yield `# Comparison: ${mdCell(c.left.label)} ↔ ${mdCell(c.right.label)}\n\n`
  yield `| | count |\n|---|---|\n`
  for (const status of ['only_left', 'only_right', 'different', 'same'] as const)
    yield `| ${STATUS_LABELS[status]} | ${c.counts[status]} |\n`
  if (c.mapping.length > 0) {
    yield `\n## Mapping (proposed by name)\n\n| kind | left | right |\n|---|---|---|\n`
    for (const m of c.mapping)
      yield `| ${m.kind} | ${mdCell(m.left_name ?? m.left_id)} | ${m.right_id ? mdCell(m.right_name ?? m.right_id) : '_not mapped_'} |\n`
  }
  for (const status of statuses) {
    yield `\n## ${STATUS_LABELS[status]}\n\n`
    let any = false
    for await (const row of rowsOf(status)) {
      any = true
      const name = (row.left ?? row.right)?.name ?? ''
      yield `- **${mdCell(name)}** (${row.policyType})\n`
      for (const ch of row.changes)
        yield `  - ${mdCell(String(ch.label))}: ${mdCell(showValue(ch.before)) || '_none_'} → ${mdCell(showValue(ch.after)) || '_none_'}\n`
    }
    if (!any) yield '_None._\n'
  }
}
