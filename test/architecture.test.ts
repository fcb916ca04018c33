import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

/** The layering rules of docs/ARCHITECTURE.md that a reviewer would otherwise have to remember. */
const root = path.resolve(import.meta.dirname, '..')
const sources = (dir: string): string[] =>
  readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(path.join(dir, entry.name))
      : /\.tsx?$/.test(entry.name)
        ? [path.join(dir, entry.name)]
        : [],
  )
const read = (file: string) => readFileSync(path.join(root, file), 'utf8')

describe('layering', () => {
  it('modules never import jobs/ (jobs/ is the pg-boss adapter that wires them)', () => {
    const offenders = sources('src/modules').filter((file) => /from '(\.\.\/)+jobs\//.test(read(file)))
    expect(offenders).toEqual([])
  })

  it('only the operations module writes operation_runs; jobs/ does not touch the table', () => {
    const writes = /(insert|update|delete)\(operationRuns\)|(INSERT INTO|UPDATE|DELETE FROM) operation_runs/
    const writers = sources('src').filter((file) => writes.test(read(file)))
    expect(writers.every((file) => file.startsWith(path.join('src', 'modules', 'operations')))).toBe(true)
    expect(sources('src/jobs').filter((file) => /operationRuns|operation_runs/.test(read(file)))).toEqual([])
  })

  it('graph/ never imports modules/ (the Graph layer is below the modules that use it)', () => {
    const offenders = sources('src/graph').filter((file) => /from '(\.\.\/)+modules\//.test(read(file)))
    expect(offenders).toEqual([])
  })

  it("no module writes another module's tables: the inventory's are written by modules/inventory, the journal by graph/writes", () => {
    const writersOf = (pattern: RegExp) => sources('src').filter((file) => pattern.test(read(file)))
    const inventory =
      /(insert|update|delete)\((inventoryItems|inventoryVersions|inventoryChanges)\)|(INSERT INTO|UPDATE|DELETE FROM) inventory_(items|versions|changes)/
    expect(writersOf(inventory).filter((file) => !file.startsWith(path.join('src', 'modules', 'inventory')))).toEqual(
      [],
    )
    const journal = /(insert|update|delete)\(graphWrites\)|(INSERT INTO|UPDATE|DELETE FROM) graph_writes/
    expect(writersOf(journal).filter((file) => !file.startsWith(path.join('src', 'graph', 'writes')))).toEqual([])
  })

  it('console features never import each other (shared things live in web/src/components or web/src/lib)', () => {
    const offenders = sources('web/src/features').filter((file) => {
      const feature = file.split(path.sep)[3]
      return [...read(file).matchAll(/from '\.\.\/([\w-]+)\//g)].some((m) => m[1] !== feature)
    })
    expect(offenders).toEqual([])
  })

  it('console components and lib never import a feature', () => {
    const offenders = [...sources('web/src/components'), ...sources('web/src/lib')].filter((file) =>
      /from '(\.\.\/)+features\//.test(read(file)),
    )
    expect(offenders).toEqual([])
  })

  it('console list pages render rows through the one list component, not a hand-written Mantine Table', () => {
    // Tables that are not lists keep <Table>: a diff (components/diff-view.tsx), a restore plan's review groups and
    // mapping (ADR 026), and the bulk action's preview inside its dialog (a capped sample, not a list page).
    const allowed = new Set(
      [
        'components/data-list.tsx',
        'components/diff-view.tsx',
        'features/restore/restore-plan-page.tsx',
        'features/inventory/bulk-actions.tsx',
      ].map((f) => path.join('web', 'src', f)),
    )
    const handWritten = sources('web/src')
      .filter((file) => !allowed.has(file) && !file.includes('.test.'))
      .filter((file) => /<Table[\s>]/.test(read(file)))
    expect(handWritten).toEqual([])
  })
})
