import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { API_DOCS_FILE, generateApiDocs, renderApiDocs, type Document } from '../scripts/api-docs.ts'
import { CLI_DOCS_FILE, cliHelp, parseHelp, renderCliDocs } from '../scripts/cli-docs.ts'
import { CONFIG_VARIABLES } from '../src/lib/config.ts'

/** The repository documents itself: the generated references are current and the hand-written docs name what exists. */
const root = path.resolve(import.meta.dirname, '..')
const read = (file: string) => readFileSync(path.join(root, file), 'utf8')
const folders = (dir: string) =>
  readdirSync(path.join(root, dir), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => `${dir}/${entry.name}/`)

/**
 * The paths ARCHITECTURE.md's tree names. An entry starts before the description column (a name, or names separated
 * by ", "); it sits under the nearest less indented folder above it. `<domain>` stands for every folder there.
 */
export function treePaths(markdown: string): string[] {
  const block = /```\n([\s\S]*?)```/.exec(markdown)?.[1] ?? ''
  const stack: { indent: number; path: string }[] = []
  const paths: string[] = []
  for (const line of block.split('\n')) {
    const indent = line.length - line.trimStart().length
    if (line.trim() === '' || indent >= 20) continue
    const names = line
      .trim()
      .split(/\s{2,}/)[0]!
      .split(', ')
    while (stack.length > 0 && stack.at(-1)!.indent >= indent) stack.pop()
    const parent = stack.at(-1)?.path ?? ''
    for (const name of names) paths.push(parent + name)
    if (names.length === 1 && names[0]!.endsWith('/')) stack.push({ indent, path: parent + names[0]! })
  }
  return paths
}

describe('docs/ARCHITECTURE.md', () => {
  const named = treePaths(read('docs/ARCHITECTURE.md'))

  it('its tree names every folder of src/, src/modules/ and web/src/', () => {
    const prefixes = named.filter((p) => p.includes('<')).map((p) => p.slice(0, p.indexOf('<')))
    const wildcard = (folder: string) => prefixes.some((prefix) => folder.startsWith(prefix))
    const actual = ['src', 'src/modules', 'web/src'].flatMap(folders)
    expect(actual.filter((folder) => !named.includes(folder) && !wildcard(folder))).toEqual([])
  })

  it('its tree names nothing that does not exist', () => {
    const exists = (p: string) => existsSync(path.join(root, p.includes('<') ? p.slice(0, p.indexOf('<')) : p))
    expect(named.filter((p) => !exists(p))).toEqual([])
    const isFolder = (p: string) => statSync(path.join(root, p)).isDirectory()
    const notFolders = named.filter((p) => p.endsWith('/') && !p.includes('<') && !isFolder(p))
    expect(notFolders).toEqual([])
  })

  it('the tree reader sees a missing and an invented folder (the checks can fail)', () => {
    const continued = `${' '.repeat(26)}continued/ text`
    const tree = ['src/', '  modules/', '    inventory/            sync', continued, '  lib/']
    const paths = treePaths(`\`\`\`\n${tree.join('\n')}\n\`\`\``)
    expect(paths).toEqual(['src/', 'src/modules/', 'src/modules/inventory/', 'src/lib/'])
    expect(folders('src/modules').filter((folder) => !paths.includes(folder))).toContain('src/modules/bulk/')
    const invented = treePaths('```\nsrc/\n  nowhere/   x\n```').filter((p) => !existsSync(path.join(root, p)))
    expect(invented).toEqual(['src/nowhere/'])
  })
})

describe('docs/api.md', () => {
  it('is what the server describes now (run `npm run docs:api` when this fails)', async () => {
    const current = readFileSync(API_DOCS_FILE, 'utf8') === (await generateApiDocs())
    expect(current, 'docs/api.md is stale: run `npm run docs:api`').toBe(true)
  })

  it('names every route with who may call it (the check can fail)', () => {
    const response = { content: { 'application/json': { schema: { $ref: '#/components/schemas/X' } } } }
    const document = (paths: Document['paths']): Document => ({
      paths,
      components: { schemas: { X: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] } } },
    })
    const before = renderApiDocs(document({ '/api/x': { get: { tags: ['x'], responses: { 200: response } } } }), {})
    const withRoute = document({
      '/api/x': { get: { tags: ['x'], responses: { 200: response } } },
      '/api/y/{id}': { post: { tags: ['y'], summary: 'Make a y', responses: { 201: response, 404: {} } } },
    })
    const after = renderApiDocs(withRoute, { 'POST /api/y/{id}': 'capability `y.make` in the tenant' })
    expect(after).not.toBe(before)
    expect(after).toContain('### `POST /api/y/{id}`\n\nMake a y\n\nWho: capability `y.make` in the tenant.')
    expect(after).toContain('- 201 `application/json`: `X`')
    expect(after).toContain('- errors: 404')
  })
})

describe('docs/cli.md and the CLI help', () => {
  const help = cliHelp()

  it('is the CLI help now (run `npm run docs:cli` when this fails)', () => {
    const current = readFileSync(CLI_DOCS_FILE, 'utf8') === renderCliDocs(help)
    expect(current, 'docs/cli.md is stale: run `npm run docs:cli`').toBe(true)
  })

  it('the help names every command the CLI runs', () => {
    const cli = read('src/cli.ts')
    const start = cli.indexOf('async function main(')
    const main = cli.slice(start, cli.indexOf('\n}\n', start))
    const keys = [...main.matchAll(/case '([^']+)':/g)].map((m) => m[1]!)
    expect(keys.length).toBeGreaterThan(15)
    const usages = parseHelp(help).commands.map((c) => c.usage)
    const listed = (key: string) => {
      const [first, second] = key.split(' ')
      return usages.some((usage) => {
        const words = usage.split(/,? /)
        if (second === undefined) return words.includes(first!)
        return words[0] === first && words[1]!.split('|').includes(second)
      })
    }
    expect(keys.filter((key) => !listed(key))).toEqual([])
  })

  it('the help and the README name every environment variable the configuration reads', () => {
    const readme = read('README.md')
    expect(CONFIG_VARIABLES.filter((name) => !help.includes(name))).toEqual([])
    expect(CONFIG_VARIABLES.filter((name) => !readme.includes(`\`${name}\``))).toEqual([])
  })
})

describe('docs/emulator.md', () => {
  it('names every resource of the control API', () => {
    const code = read('src/emulator/control-routes.ts')
    const resources = [...new Set([...code.matchAll(/(?:resource|sub) === '([a-z_]+)'/g)].map((m) => m[1]!))]
    expect(resources.length).toBeGreaterThan(5)
    const doc = read('docs/emulator.md')
    expect(resources.filter((name) => !doc.includes(`/${name}`))).toEqual([])
  })
})

describe('docs/decisions/README.md', () => {
  it('lists every ADR with its number and title', () => {
    const index = read('docs/decisions/README.md')
    const files = readdirSync(path.join(root, 'docs/decisions'))
    const adrs = files.filter((f) => /^\d{3}-.+\.md$/.test(f) && !f.startsWith('000'))
    const missing = adrs.filter((file) => {
      const title = read(`docs/decisions/${file}`)
        .split('\n')[0]!
        .replace(/^#\s*\d+\.\s*/, '')
      return !index.includes(`[${file.slice(0, 3)}](${file})`) || !index.includes(title)
    })
    expect(missing).toEqual([])
  })
})

describe('the repository stands alone', () => {
  it('links to no document outside it', () => {
    const skip = new Set(['node_modules', '.git', 'dist', 'data', 'test-results', 'ci-reports', 'e2e-artifacts'])
    const files = (dir: string): string[] =>
      readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
        if (skip.has(entry.name) || entry.name.startsWith('.')) return []
        const file = path.join(dir, entry.name)
        return entry.isDirectory() ? files(file) : /\.(md|ts|tsx|json|html)$/.test(entry.name) ? [file] : []
      })
    const outside = /\.\.\/shared|(?:CONTRACT|DESIGN|STYLE)\.md/
    const self = path.join('test', 'docs.test.ts')
    const offenders = files('.').filter((file) => file !== self && outside.test(read(file)))
    expect(offenders).toEqual([])
  })
})
