import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'

/** The layering rules of docs/ARCHITECTURE.md that a reviewer would otherwise have to remember. */
const root = path.resolve(import.meta.dirname, '..')
const sources = (dir: string): string[] =>
  readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(path.join(dir, entry.name))
      : entry.name.endsWith('.ts')
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
})
