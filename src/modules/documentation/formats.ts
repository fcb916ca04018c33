import { Readable } from 'node:stream'
import { GatheredZipStream, safeSegment } from '../backups/zip-export.ts'
import type { SideKey } from '../compare/sides.ts'
import { MAX_CHANGES, typeLabelOf, type DocChange, type DocObject } from './document.ts'

/**
 * The two formats of a documentation export: a Markdown ZIP (an index, a folder per type with one
 * file per object, the change appendix) and one self-contained HTML file that prints cleanly.
 * Both are byte-for-byte deterministic: fixed order, no "generated at", fixed ZIP entry dates.
 */

export type DocumentInput = {
  title: string
  keys: readonly SideKey[]
  objects: AsyncIterable<DocObject[]>
  includeAssignments: boolean
  /** The appendix: changes since a date (null: no appendix asked for). */
  changes: { since: string; entries: DocChange[] } | null
}

/** Every ZIP entry carries this date, so the same document is the same bytes. */
const ZIP_DATE = new Date(Date.UTC(2000, 0, 1))

export const markdownFileOf = (k: { type: string; name: string; id: string }) =>
  `${safeSegment(k.type, 100)}/${safeSegment(k.name, 100)} (${safeSegment(k.id, 150)}).md`

const md = (text: string) => text.replaceAll('|', '\\|').replaceAll('<', '\\<').replaceAll(/\r?\n/g, ' ')
const mdLink = (path: string) => path.replaceAll(' ', '%20').replaceAll('(', '%28').replaceAll(')', '%29')

function countsByType(keys: readonly SideKey[]) {
  const counts = new Map<string, number>()
  for (const k of keys) counts.set(k.policyType, (counts.get(k.policyType) ?? 0) + 1)
  return [...counts]
}

export function markdownIndex(input: DocumentInput): string {
  const lines = [`# ${md(input.title)}`, '', `${input.keys.length} objects.`, '']
  if (input.changes) lines.push(`Changes since ${input.changes.since}: [CHANGES.md](CHANGES.md)`, '')
  let type = ''
  for (const k of input.keys) {
    if (k.policyType !== type) {
      type = k.policyType
      const count = input.keys.filter((x) => x.policyType === type).length
      if (lines.at(-1) !== '') lines.push('')
      lines.push(`## ${md(typeLabelOf(type))} (${count})`, '')
    }
    lines.push(`- [${md(k.name)}](${mdLink(markdownFileOf({ type: k.policyType, name: k.name, id: k.externalId }))})`)
  }
  return lines.join('\n') + '\n'
}

export function markdownObject(o: DocObject, includeAssignments: boolean): string {
  const lines = [
    `# ${md(o.name)}`,
    '',
    `- Type: ${md(o.typeLabel)} (\`${o.type}\`)`,
    `- Id: \`${o.id}\``,
    `- Scope tags: ${o.scopeTags.length ? o.scopeTags.map(md).join(', ') : 'none'}`,
    '',
    '## Settings',
    '',
  ]
  if (o.settings.length === 0) lines.push('_No settings._')
  else {
    lines.push('| Setting | Value |', '|---|---|')
    for (const s of o.settings) lines.push(`| ${md(s.label)} | ${md(s.value)} |`)
  }
  if (includeAssignments) {
    lines.push('', '## Assignments', '')
    if (!o.assignments?.length) lines.push('_Not assigned._')
    else {
      lines.push('| Target | Intent and filter |', '|---|---|')
      for (const a of o.assignments) lines.push(`| ${md(a.label)} | ${md(a.value)} |`)
    }
  }
  return lines.join('\n') + '\n'
}

export function markdownChanges(changes: NonNullable<DocumentInput['changes']>): string {
  const lines = [`# Changed since ${changes.since}`, '']
  if (changes.entries.length === 0) lines.push('_No changes._')
  else {
    lines.push('| When | Type | Object | Change | By |', '|---|---|---|---|---|')
    for (const c of changes.entries.slice(0, MAX_CHANGES))
      lines.push(`| ${c.at} | ${md(typeLabelOf(c.type))} | ${md(c.name)} | ${c.kind} | ${md(c.by)} |`)
    if (changes.entries.length > MAX_CHANGES) lines.push('', `_Only the first ${MAX_CHANGES} changes are listed._`)
  }
  return lines.join('\n') + '\n'
}

/** The Markdown ZIP, streamed: each entry is added once the previous one has gone through the output. */
export function markdownZip(input: DocumentInput): Readable {
  const zip = new GatheredZipStream({ zlib: { level: 6 } })
  const add = (text: string, name: string) =>
    new Promise<void>((resolve, reject) => {
      if (zip.destroyed) return reject(new Error('The ZIP output was closed'))
      zip.entry(Buffer.from(text), { name, date: ZIP_DATE }, (error) => (error ? reject(error) : resolve()))
    })
  const fill = async () => {
    await add(markdownIndex(input), 'README.md')
    for await (const batch of input.objects)
      for (const o of batch) await add(markdownObject(o, input.includeAssignments), markdownFileOf(o))
    if (input.changes) await add(markdownChanges(input.changes), 'CHANGES.md')
    zip.finalize()
  }
  fill().catch((error: unknown) => zip.destroy(error as Error))
  return zip
}

const html = (text: string) =>
  text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;')
const anchor = (k: { type: string; id: string }) => `o-${html(k.type)}-${html(k.id)}`.replaceAll(/[^A-Za-z0-9_-]/g, '_')

const STYLE = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;max-width:60rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.8rem}h2{margin-top:2.5rem;border-bottom:2px solid #d0d7de;padding-bottom:.2rem}h3{margin:1.8rem 0 .3rem}
table{border-collapse:collapse;width:100%;margin:.4rem 0}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f6f8fa}.meta{color:#57606a;margin:0}.object{break-inside:avoid-page}nav ul{columns:2}
@media print{body{margin:0;max-width:none;font-size:11px}nav{break-after:page}h2{break-before:page}a{color:inherit;text-decoration:none}th{background:none}}`

/** One self-contained HTML document (no scripts, no external files), streamed object by object. */
export async function* htmlDocument(input: DocumentInput): AsyncGenerator<string> {
  yield `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${html(input.title)}</title><style>${STYLE}</style></head><body>\n`
  yield `<h1>${html(input.title)}</h1>\n<p class="meta">${input.keys.length} objects.</p>\n<nav><h2>Contents</h2><ul>\n`
  for (const [type, count] of countsByType(input.keys))
    yield `<li><a href="#t-${html(type)}">${html(typeLabelOf(type))}</a> (${count})</li>\n`
  if (input.changes) yield `<li><a href="#changes">Changed since ${html(input.changes.since)}</a></li>\n`
  yield '</ul></nav>\n'
  let type = ''
  for await (const batch of input.objects) {
    let out = ''
    for (const o of batch) {
      if (o.type !== type) {
        type = o.type
        out += `<h2 id="t-${html(type)}">${html(o.typeLabel)}</h2>\n`
      }
      out += `<section class="object" id="${anchor(o)}"><h3>${html(o.name)}</h3>\n<p class="meta">${html(o.type)} · ${html(o.id)} · Scope tags: ${o.scopeTags.length ? html(o.scopeTags.join(', ')) : 'none'}</p>\n`
      out += o.settings.length
        ? `<table><tr><th>Setting</th><th>Value</th></tr>\n${o.settings.map((s) => `<tr><td>${html(s.label)}</td><td>${html(s.value)}</td></tr>\n`).join('')}</table>\n`
        : '<p><em>No settings.</em></p>\n'
      if (input.includeAssignments)
        out += o.assignments?.length
          ? `<table><tr><th>Assigned to</th><th>Intent and filter</th></tr>\n${o.assignments.map((a) => `<tr><td>${html(a.label)}</td><td>${html(a.value)}</td></tr>\n`).join('')}</table>\n`
          : '<p><em>Not assigned.</em></p>\n'
      out += '</section>\n'
    }
    yield out
  }
  if (input.changes) {
    yield `<h2 id="changes">Changed since ${html(input.changes.since)}</h2>\n`
    const entries = input.changes.entries.slice(0, MAX_CHANGES)
    yield entries.length === 0
      ? '<p><em>No changes.</em></p>\n'
      : `<table><tr><th>When</th><th>Type</th><th>Object</th><th>Change</th><th>By</th></tr>\n${entries.map((c) => `<tr><td>${c.at}</td><td>${html(typeLabelOf(c.type))}</td><td>${html(c.name)}</td><td>${c.kind}</td><td>${html(c.by)}</td></tr>\n`).join('')}</table>\n`
  }
  yield '</body></html>\n'
}

export const htmlStream = (input: DocumentInput) => Readable.from(htmlDocument(input))
