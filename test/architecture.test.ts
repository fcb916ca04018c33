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
})

/**
 * Who writes each table: the module (folder under src/) that owns it. Derived from the schema: every
 * `pgTable` must be in this map, so a new table names its owner. A writer is any file that inserts,
 * updates or deletes it (Drizzle or SQL); writers outside the owner must go through one of the
 * owner's exported functions instead.
 */
const tableOwners: Record<string, string> = {
  users: 'modules/access',
  authSessions: 'modules/access',
  apiTokens: 'modules/access',
  signInAttempts: 'modules/access',
  settings: 'modules/tenants',
  tenants: 'modules/tenants',
  tenantMemberships: 'modules/tenants',
  invites: 'modules/tenants',
  auditEvents: 'modules/audit',
  operationRuns: 'modules/operations',
  operationRunItems: 'modules/operations',
  notifications: 'modules/notifications',
  schedules: 'modules/schedules',
  inventoryItems: 'modules/inventory',
  inventoryReferences: 'modules/inventory',
  inventoryTypeStates: 'modules/inventory',
  inventoryContents: 'modules/inventory',
  inventoryVersions: 'modules/inventory',
  inventoryChanges: 'modules/inventory',
  settingDefinitions: 'modules/inventory',
  backupSets: 'modules/backups',
  backupSetItems: 'modules/backups',
  backupRetention: 'modules/backups',
  graphWrites: 'graph/writes',
  restorePlans: 'modules/restore',
  restorePlanItems: 'modules/restore',
  restoreMappings: 'modules/restore',
  bulkOperationItems: 'modules/bulk',
  tenantGroups: 'modules/tenant-groups',
  tenantGroupMembers: 'modules/tenant-groups',
  entraIdentities: 'modules/entra',
  roleRules: 'modules/entra',
  comparisons: 'modules/compare',
  comparisonRows: 'modules/compare',
  documentationExports: 'modules/documentation',
  documentationChunks: 'modules/documentation',
  baselines: 'modules/baselines',
  baselineContents: 'modules/baselines',
  baselineEntries: 'modules/baselines',
  baselineVersions: 'modules/baselines',
  baselineAssignments: 'modules/baselines',
  findings: 'modules/findings',
  alertEvents: 'modules/alerts',
  alertChannels: 'modules/alerts',
  alertRules: 'modules/alerts',
  alertMessages: 'modules/alerts',
  alertMessageEvents: 'modules/alerts',
  alertDeliveries: 'modules/alerts',
}

/**
 * Writers outside the owner that are known and named, each with why; the test fails when one of them
 * stops writing (remove it here) as much as when a new one starts. Sign-in creates users and sessions
 * from three places (password, Entra, an invite); the engine records its terminal notification in
 * the run's finishing transaction and deletes them with the runs.
 */
const knownOutsideWriters: Record<string, string[]> = {
  users: ['src/modules/entra/entra-sign-in.ts', 'src/modules/entra/grant-roles.ts', 'src/modules/tenants/invites.ts'],
  authSessions: ['src/modules/entra/entra-sign-in.ts', 'src/modules/tenants/invites.ts'],
  tenantMemberships: ['src/modules/entra/grant-roles.ts'],
  notifications: ['src/modules/operations/finish-run.ts', 'src/modules/operations/retention.ts'],
}

describe('table ownership', () => {
  const schema = read('src/db/schema.ts')
  const tables = [...schema.matchAll(/export const (\w+) = pgTable\(\s*'(\w+)'/g)].map(([, name, sqlName]) => ({
    name: name!,
    sqlName: sqlName!,
  }))

  it('every table of the schema has an owner', () => {
    expect(tables.length).toBeGreaterThan(30)
    expect(tables.map((t) => t.name).filter((name) => !(name in tableOwners))).toEqual([])
  })

  it("no module writes another module's tables (it calls the owner's exported function)", () => {
    const files = sources('src').map((file) => ({ file, text: read(file) }))
    const outside: Record<string, string[]> = {}
    for (const { name, sqlName } of tables) {
      const writes = new RegExp(
        `\\.(insert|update|delete)\\(${name}\\)|(INSERT INTO|UPDATE|DELETE FROM)\\s+"?${sqlName}\\b`,
      )
      const owner = path.join('src', tableOwners[name] ?? '?') + path.sep
      const writers = files.filter(({ file, text }) => !file.startsWith(owner) && writes.test(text))
      if (writers.length > 0) outside[name] = writers.map(({ file }) => file.split(path.sep).join('/')).sort()
    }
    expect(outside).toEqual(knownOutsideWriters)
  })
})

describe('imports between layers', () => {
  const runtimeImports = (file: string) =>
    [...read(file).matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)'/gms)]
      .filter(([, typeOnly]) => !typeOnly)
      .map(([, , specifier]) => path.join(path.dirname(file), specifier!))

  it('http/ imports modules only in the route registry (app.ts); elsewhere types at most', () => {
    const offenders = sources('src/http')
      .filter((file) => !file.endsWith(`${path.sep}app.ts`))
      .flatMap((file) =>
        runtimeImports(file)
          .filter((target) => target.startsWith(path.join('src', 'modules') + path.sep))
          .map((target) => `${file} → ${target}`),
      )
    expect(offenders).toEqual([])
  })

  it('modules never import the route registry, and lib/ imports neither http/ nor modules/', () => {
    const registry = path.join('src', 'http', 'app.ts')
    expect(sources('src/modules').filter((file) => runtimeImports(file).includes(registry))).toEqual([])
    const above = [path.join('src', 'http') + path.sep, path.join('src', 'modules') + path.sep]
    expect(
      sources('src/lib').filter((file) => runtimeImports(file).some((t) => above.some((dir) => t.startsWith(dir)))),
    ).toEqual([])
  })

  it('shared helpers are imported from their home, not from the module that first needed them', () => {
    const borrowed = [
      { name: 'canonicalJson', home: 'src/lib/canonical.ts' },
      { name: 'loggableError', home: 'src/lib/unexpected-error.ts' },
      { name: 'tenantIdParams', home: 'src/http/schemas.ts' },
    ]
    const offenders = sources('src').flatMap((file) =>
      [...read(file).matchAll(/^import\s+\{([^}]*)\}\s+from\s+'([^']+)'/gms)].flatMap(([, names, specifier]) =>
        borrowed
          .filter(({ name }) => new RegExp(`\\b${name}\\b`).test(names!))
          .filter(({ home }) => path.join(path.dirname(file), specifier!) !== path.normalize(home))
          .map(({ name }) => `${file} imports ${name} from ${specifier}`),
      ),
    )
    expect(offenders).toEqual([])
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
