import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { eq } from 'drizzle-orm'
import { bulkNoopHandlers } from './bulk/noop-handlers.ts'
import { PUBLIC_API_ROUTES, routesOf } from '../src/http/app.ts'
import { randomUUID } from 'node:crypto'
import {
  backupSets,
  baselineAssignments,
  baselineContents,
  baselineEntries,
  baselines,
  baselineVersions,
  findings,
  bulkOperationItems,
  documentationChunks,
  documentationExports,
  graphWrites,
  inventoryContents,
  inventoryItems,
  inventoryVersions,
  restorePlans,
  type UserRow,
} from '../src/db/schema.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { createCatalog } from '../src/modules/operations/catalog.ts'
import { shippedCatalog } from '../src/operation-types.ts'
import { finishRun } from '../src/modules/operations/finish-run.ts'
import { createSchedule } from '../src/modules/schedules/save-schedule.ts'
import { capabilitiesOf, ROLES } from '../src/modules/access/policy.ts'
import { createApiToken } from '../src/modules/access/api-tokens.ts'
import { SCOPE_KEYS, type ScopeKey } from '../src/modules/access/token-scope.ts'
import { createTestContext, errorOf, type TestContext } from './harness.ts'
import { seedBackupSet } from './backups/seed.ts'
import { exportBackupZip } from '../src/modules/backups/zip-export.ts'
import { testCatalog, testHandlers } from './operations/fixtures.ts'

type Role = (typeof ROLES)[number]
type CaseSetup = {
  tenantId: string
  target: UserRow
  outsider: UserRow
  runId: string
  doneRunId: string
  itemId: string
  versionId: string
  scheduleId: string
  backupId: string
  backupZip: Buffer
  planId: string
  bulkRunId: string
  baselineId: string
  findingId: string
  exceptedFindingId: string
}
type RouteCase = {
  /** What an owner's token must hold (all of it) for the route to answer `ok`. */
  need: readonly ScopeKey[]
  /** Success status, and the roles that get it; every other role gets `denied` (403 unless said). */
  ok: number
  allowed: readonly Role[]
  /** The status of a role or token that may not use the route: 404 where the route hides what exists. */
  denied?: number
  /** Tokens of one capability that get another answer than `denied`/403 (e.g. 404: the source cannot be seen). */
  singles?: Partial<Record<ScopeKey, number>>
  request: (s: CaseSetup) => { url: string; payload?: unknown; headers?: Record<string, string> }
  /** An id that is workspace-level, not the tenant's (a baseline): another tenant's is found on purpose. */
  crossTenant?: true
}

const everyone = ROLES
const ownerAndManager = ['owner', 'manager'] as const
const operators = ['owner', 'manager', 'operator'] as const

/**
 * Every tenant-scoped route with the roles the role table (docs/api.md) lets through. A route the app
 * serves that is missing here fails the first test below.
 */
const TABLE: Record<string, RouteCase> = {
  'GET /api/tenants/:tenantId': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}` }),
  },
  'PATCH /api/tenants/:tenantId': {
    need: ['tenant.manage'],
    ok: 200,
    allowed: ownerAndManager,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}`, payload: { name: 'Renamed' } }),
  },
  'GET /api/tenants/:tenantId/members': {
    need: ['members.manage'],
    ok: 200,
    allowed: ['owner'],
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/members` }),
  },
  'POST /api/tenants/:tenantId/invites': {
    need: ['members.manage'],
    ok: 201,
    allowed: ['owner'],
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/invites`,
      payload: { email: 'invitee@example.test', role: 'readonly' },
    }),
  },
  'POST /api/tenants/:tenantId/members': {
    need: ['members.manage'],
    ok: 201,
    allowed: ['owner'],
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/members`,
      payload: { email: s.outsider.email, role: 'readonly' },
    }),
  },
  'PATCH /api/tenants/:tenantId/members/:userId': {
    need: ['members.manage'],
    ok: 200,
    allowed: ['owner'],
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/members/${s.target.id}`, payload: { role: 'manager' } }),
  },
  'DELETE /api/tenants/:tenantId/members/:userId': {
    need: ['members.manage'],
    ok: 204,
    allowed: ['owner'],
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/members/${s.target.id}` }),
  },
  'GET /api/tenants/:tenantId/audit-events': {
    need: ['audit.view'],
    ok: 200,
    allowed: ownerAndManager,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/audit-events` }),
  },
  'GET /api/tenants/:tenantId/operation-runs': {
    need: ['operations.view'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/operation-runs` }),
  },
  'GET /api/tenants/:tenantId/operation-runs/active': {
    need: ['operations.view'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/operation-runs/active` }),
  },
  'GET /api/tenants/:tenantId/operation-runs/:runId': {
    need: ['operations.view'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/operation-runs/${s.runId}` }),
  },
  // The run was started by the target (not by the caller): operators may cancel only their own.
  'POST /api/tenants/:tenantId/operation-runs/:runId/cancel': {
    need: ['operations.manage'],
    ok: 202,
    allowed: ownerAndManager,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/operation-runs/${s.runId}/cancel` }),
  },
  'POST /api/tenants/:tenantId/operation-runs/:runId/rerun': {
    need: ['operations.manage', 'inventory.sync'],
    ok: 202,
    allowed: ownerAndManager,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/operation-runs/${s.doneRunId}/rerun` }),
  },
  'GET /api/tenants/:tenantId/operation-runs/:runId/items': {
    need: ['operations.view'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/operation-runs/${s.runId}/items` }),
  },
  'GET /api/tenants/:tenantId/schedules': {
    need: ['operations.view'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/schedules` }),
  },
  'POST /api/tenants/:tenantId/schedules': {
    need: ['schedules.manage', 'inventory.sync'],
    ok: 201,
    allowed: ownerAndManager,
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/schedules`,
      payload: { name: 'Hourly', operation_type: 'test.noop', input: {}, cron: '0 * * * *' },
    }),
  },
  'PATCH /api/tenants/:tenantId/schedules/:scheduleId': {
    need: ['schedules.manage', 'inventory.sync'],
    ok: 200,
    allowed: ownerAndManager,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/schedules/${s.scheduleId}`, payload: { enabled: false } }),
  },
  // Run now starts the schedule's type as the caller: the type's capability (test.noop: inventory.sync), like a re-run.
  'POST /api/tenants/:tenantId/schedules/:scheduleId/run': {
    need: ['operations.view', 'inventory.sync'],
    ok: 202,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/schedules/${s.scheduleId}/run` }),
  },
  'DELETE /api/tenants/:tenantId/schedules/:scheduleId': {
    need: ['schedules.manage'],
    ok: 204,
    allowed: ownerAndManager,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/schedules/${s.scheduleId}` }),
  },
  'GET /api/tenants/:tenantId/policy-types': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/policy-types` }),
  },
  'GET /api/tenants/:tenantId/events': {
    need: ['operations.view'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/events` }),
  },
  'POST /api/tenants/:tenantId/inventory-sync': {
    need: ['inventory.sync'],
    ok: 202,
    allowed: operators,
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/inventory-sync`,
      payload: { policy_types: ['deviceConfiguration'] },
    }),
  },
  'GET /api/tenants/:tenantId/inventory/items': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/inventory/items` }),
  },
  'GET /api/tenants/:tenantId/inventory/items/:itemId': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/inventory/items/${s.itemId}` }),
  },
  'GET /api/tenants/:tenantId/inventory/items/:itemId/versions': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/inventory/items/${s.itemId}/versions` }),
  },
  'GET /api/tenants/:tenantId/inventory/items/:itemId/versions/:versionId': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/inventory/items/${s.itemId}/versions/${s.versionId}` }),
  },
  'GET /api/tenants/:tenantId/inventory/items/:itemId/diff': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/inventory/items/${s.itemId}/diff` }),
  },
  'GET /api/tenants/:tenantId/changes': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/changes` }),
  },
  // 200 with ok:false here: the tenant is on the emulator cloud and this app has no emulator.
  'POST /api/tenants/:tenantId/connection-check': {
    need: ['tenant.manage'],
    ok: 200,
    allowed: ownerAndManager,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/connection-check` }),
  },
  'GET /api/tenants/:tenantId/backups': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/backups` }),
  },
  'POST /api/tenants/:tenantId/backups': {
    need: ['backups.manage'],
    ok: 202,
    allowed: operators,
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/backups`,
      payload: { selection: { policy_types: ['deviceConfiguration'] } },
    }),
  },
  'GET /api/tenants/:tenantId/backups/:backupId': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/backups/${s.backupId}` }),
  },
  'PATCH /api/tenants/:tenantId/backups/:backupId': {
    need: ['backups.manage'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/backups/${s.backupId}`, payload: { labels: ['kept'] } }),
  },
  'DELETE /api/tenants/:tenantId/backups/:backupId': {
    need: ['backups.manage'],
    ok: 204,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/backups/${s.backupId}` }),
  },
  'GET /api/tenants/:tenantId/backups/:backupId/missing': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/backups/${s.backupId}/missing` }),
  },
  'GET /api/tenants/:tenantId/backups/:backupId/items': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/backups/${s.backupId}/items` }),
  },
  'GET /api/tenants/:tenantId/backups/:backupId/item': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/backups/${s.backupId}/item?type=deviceConfiguration&id=object-1`,
    }),
  },
  'GET /api/tenants/:tenantId/backups/:backupId/export': {
    need: ['backups.manage'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/backups/${s.backupId}/export` }),
  },
  'POST /api/tenants/:tenantId/backups/import': {
    need: ['backups.manage'],
    ok: 201,
    allowed: operators,
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/backups/import`,
      payload: s.backupZip,
      headers: { 'content-type': 'application/zip' },
    }),
  },
  'POST /api/tenants/:tenantId/restore-plans': {
    // With restore.execute but not tenant.view the backup's tenant cannot be seen: the backup is not found.
    singles: { 'restore.execute': 404 },
    need: ['restore.execute', 'tenant.view'],
    ok: 201,
    allowed: ownerAndManager,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/restore-plans`, payload: { backup_id: s.backupId } }),
  },
  // A plan shows its source's content: only to those who may act on the target and view the source (404 otherwise).
  'GET /api/tenants/:tenantId/restore-plans/:planId': {
    need: ['restore.execute'],
    ok: 200,
    allowed: ownerAndManager,
    denied: 404,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/restore-plans/${s.planId}` }),
  },
  'PATCH /api/tenants/:tenantId/restore-plans/:planId': {
    need: ['restore.execute'],
    ok: 200,
    allowed: ownerAndManager,
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/restore-plans/${s.planId}`,
      payload: { excluded_item_ids: [] },
    }),
  },
  'POST /api/tenants/:tenantId/restore-plans/:planId/execute': {
    need: ['restore.execute'],
    ok: 202,
    allowed: ownerAndManager,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/restore-plans/${s.planId}/execute` }),
  },
  'GET /api/tenants/:tenantId/backup-retention': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/backup-retention` }),
  },
  'PUT /api/tenants/:tenantId/backup-retention': {
    need: ['backups.manage'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/backup-retention`, payload: { keep_last: 5, keep_days: 30 } }),
  },
  'POST /api/tenants/:tenantId/backup-retention/prune': {
    need: ['backups.manage'],
    ok: 202,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/backup-retention/prune` }),
  },
  'POST /api/tenants/:tenantId/bulk-operations': {
    need: ['bulk.execute'],
    ok: 200,
    allowed: ownerAndManager,
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/bulk-operations`,
      payload: { action: 'rename', params: { prefix: 'Pilot ' }, item_ids: [s.itemId], dry_run: true },
    }),
  },
  'POST /api/tenants/:tenantId/bulk-operations/selection': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/bulk-operations/selection`,
      payload: { item_ids: [s.itemId] },
    }),
  },
  'GET /api/tenants/:tenantId/bulk-operations/:runId': {
    need: ['operations.view'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/bulk-operations/${s.bulkRunId}` }),
  },
  'POST /api/tenants/:tenantId/bulk-operations/:runId/undo': {
    need: ['restore.execute'],
    ok: 201,
    allowed: ownerAndManager,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/bulk-operations/${s.bulkRunId}/undo` }),
  },
  'GET /api/tenants/:tenantId/bulk-actions': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/bulk-actions` }),
  },
  // 200 with a warning here: the tenant is on the emulator cloud and this app has no emulator to read memberships from.
  'GET /api/tenants/:tenantId/assignments': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/assignments?group_id=${randomUUID()}` }),
  },
  // The tenant has no Graph to search here: the inventory's groups alone (complete: false).
  'GET /api/tenants/:tenantId/targets': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/targets?kind=group&q=a` }),
  },
  'POST /api/tenants/:tenantId/documentation': {
    need: ['tenant.view'],
    ok: 202,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/documentation`, payload: { format: 'html' } }),
  },
  // The setup's queued run stands for a finished export (its file is one chunk).
  // A baseline is workspace-level: the caller views its home tenant (here the same tenant).
  'GET /api/tenants/:tenantId/baselines/:baselineId': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    crossTenant: true,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/baselines/${s.baselineId}` }),
  },
  // It reads the baseline through its home tenant too (tenant.view there).
  'PUT /api/tenants/:tenantId/baselines/:baselineId': {
    need: ['baselines.manage', 'tenant.view'],
    ok: 200,
    allowed: ownerAndManager,
    crossTenant: true,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/baselines/${s.baselineId}`, payload: { enabled: true } }),
  },
  'POST /api/tenants/:tenantId/drift-evaluations': {
    need: ['findings.manage'],
    ok: 202,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/drift-evaluations` }),
  },
  'GET /api/tenants/:tenantId/findings': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/findings?state=open` }),
  },
  'POST /api/tenants/:tenantId/findings/:findingId/acknowledge': {
    need: ['findings.manage'],
    ok: 200,
    allowed: operators,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/findings/${s.findingId}/acknowledge` }),
  },
  'POST /api/tenants/:tenantId/findings/:findingId/exception': {
    need: ['findings.approve'],
    ok: 200,
    allowed: ['owner'],
    request: (s) => ({
      url: `/api/tenants/${s.tenantId}/findings/${s.findingId}/exception`,
      payload: { reason: 'Accepted', expires_at: null },
    }),
  },
  'DELETE /api/tenants/:tenantId/findings/:findingId/exception': {
    need: ['findings.approve'],
    ok: 200,
    allowed: ['owner'],
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/findings/${s.exceptedFindingId}/exception` }),
  },
  'GET /api/tenants/:tenantId/alignment': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/alignment` }),
  },
  'GET /api/tenants/:tenantId/documentation/:runId/download': {
    need: ['tenant.view'],
    ok: 200,
    allowed: everyone,
    request: (s) => ({ url: `/api/tenants/${s.tenantId}/documentation/${s.runId}/download` }),
  },
}

/** The test types plus the shipped ones (no worker runs here: handlers are never called). */
const catalog = createCatalog({ ...testCatalog.specs, ...shippedCatalog.specs })
const handlers = {
  ...testHandlers,
  'inventory.sync': async () => {},
  'backup.create': async () => {},
  'backup.prune': async () => {},
  'restore.execute': async () => {},
  'compare.run': async () => {},
  'docs.export': async () => {},
  'drift.evaluate': async () => {},
  ...bulkNoopHandlers,
}

let ctx: TestContext
let baseUrl: string
const callers = {} as Record<Role | 'stranger', string>

beforeAll(async () => {
  ctx = await createTestContext({ catalog, handlers, worker: false })
  baseUrl = await ctx.app.listen({ port: 0, host: '127.0.0.1' })
  for (const role of [...ROLES, 'stranger'] as const) callers[role] = (await ctx.factories.userWithToken()).token
})
afterAll(() => ctx.close())

/** A fresh tenant per case: one member per role (the callers) and a readonly "target" member. */
async function setUp(): Promise<CaseSetup> {
  const tenant = await ctx.factories.tenant()
  for (const role of ROLES) {
    const row = await ctx.request({ method: 'GET', url: '/api/me', token: callers[role] })
    await ctx.factories.member(tenant.id, { id: (JSON.parse(row.body) as { user: { id: string } }).user.id }, role)
  }
  const target = await ctx.factories.user()
  await ctx.factories.member(tenant.id, target, 'readonly')
  const outsider = await ctx.factories.user()
  // A queued run started by the target (no worker runs in this file, so it stays queued).
  const { run } = await ctx.engine.startRun({
    tenantId: tenant.id,
    type: 'test.noop',
    context: { case: Math.random() },
    initiatorUserId: target.id,
    actor: { kind: 'user', userId: target.id, ip: null },
  })
  // A completed run started by the target, to re-run.
  const done = await ctx.engine.startRun({
    tenantId: tenant.id,
    type: 'test.noop',
    context: { done: Math.random() },
    initiatorUserId: target.id,
    actor: { kind: 'user', userId: target.id, ip: null },
  })
  await ctx.db.transaction((tx) =>
    finishRun(tx, catalog, { runId: done.run.id, from: ['queued'], outcome: 'succeeded', actor: { kind: 'system' } }),
  )
  // The stranger belongs to another tenant only.
  const elsewhere = await ctx.factories.tenant()
  const stranger = await ctx.request({ method: 'GET', url: '/api/me', token: callers.stranger })
  await ctx.factories.member(
    elsewhere.id,
    { id: (JSON.parse(stranger.body) as { user: { id: string } }).user.id },
    'owner',
  )
  const itemId = uuidv7()
  await ctx.db.insert(inventoryItems).values({
    id: itemId,
    tenantId: tenant.id,
    policyType: 'deviceConfiguration',
    externalId: randomUUID(),
    displayName: 'Item',
    category: 'Configuration',
    platform: 'windows',
    payload: {},
    contentHash: 'x',
    firstSeenRunId: run.id,
    lastSeenRunId: run.id,
  })
  await ctx.db
    .insert(inventoryContents)
    .values({ tenantId: tenant.id, contentHash: 'x', payload: {}, assignments: [] })
    .onConflictDoNothing()
  const versionId = uuidv7()
  await ctx.db
    .insert(inventoryVersions)
    .values({ id: versionId, tenantId: tenant.id, itemId, number: 1, contentHash: 'x', runId: run.id })
  const schedule = await createSchedule(
    ctx.db,
    catalog,
    { tenantId: tenant.id, userId: target.id, role: 'owner' },
    { kind: 'system' },
    {
      name: 'Nightly',
      operation_type: 'test.noop',
      input: {},
      cron: '0 2 * * *',
      timezone: 'UTC',
      enabled: true,
    },
  )
  const backup = await seedBackupSet(ctx.db, tenant.id, [
    {
      policyType: 'deviceConfiguration',
      externalId: 'object-1',
      displayName: 'Object 1',
      payload: { a: 1 },
      assignments: [],
    },
  ])
  const backupZip = Buffer.concat(await exportBackupZip(ctx.db, backup).toArray())
  const planId = uuidv7()
  await ctx.db
    .insert(restorePlans)
    .values({ id: planId, targetTenantId: tenant.id, sourceTenantId: tenant.id, backupId: backup.id })
  // A finished bulk rename whose backup is that set, having changed its one object.
  const bulk = await ctx.engine.startRun({
    tenantId: tenant.id,
    type: 'bulk.rename',
    context: {
      params: { prefix: 'x', suffix: '', find: '', replace: '' },
      filter: null,
      item_count: 1,
      selection_digest: '0'.repeat(64),
    },
    initiatorUserId: target.id,
    actor: { kind: 'user', userId: target.id, ip: null },
  })
  await ctx.db.transaction((tx) =>
    finishRun(tx, catalog, { runId: bulk.run.id, from: ['queued'], outcome: 'succeeded', actor: { kind: 'system' } }),
  )
  await ctx.db.update(backupSets).set({ runId: bulk.run.id }).where(eq(backupSets.id, backup.id))
  await ctx.db.insert(bulkOperationItems).values({
    runId: bulk.run.id,
    position: 0,
    tenantId: tenant.id,
    itemId,
    policyType: 'deviceConfiguration',
    externalId: 'object-1',
    displayName: 'Object 1',
    state: 'succeeded',
  })
  await ctx.db.insert(documentationExports).values({
    runId: run.id,
    tenantId: tenant.id,
    format: 'html',
    filename: 'doc.html',
    byteCount: 5,
    completedAt: new Date(),
  })
  await ctx.db.insert(documentationChunks).values({ runId: run.id, seq: 0, data: Buffer.from('<p/>\n') })
  // Its journal says it wrote that object (Undo plans from what the run did, ADR 023).
  await ctx.db.insert(graphWrites).values({
    id: uuidv7(),
    tenantId: tenant.id,
    runId: bulk.run.id,
    key: `${itemId}:rename:write`,
    operation: 'update',
    policyType: 'deviceConfiguration',
    targetId: 'object-1',
    method: 'PATCH',
    path: '/beta/deviceManagement/deviceConfigurations/object-1',
    marker: randomUUID(),
    state: 'confirmed',
    confirmedAt: new Date(),
  })
  const seeded = await seedBaseline(tenant.id, itemId)
  return {
    ...seeded,
    tenantId: tenant.id,
    target,
    outsider,
    runId: run.id,
    doneRunId: done.run.id,
    itemId,
    versionId,
    scheduleId: schedule.id,
    backupId: backup.id,
    backupZip,
    planId,
    bulkRunId: bulk.run.id,
  }
}

/** A baseline of the tenant with one entry (its item), assigned to it, and two findings: one open, one excepted. */
async function seedBaseline(tenantId: string, itemId: string) {
  const baselineId = uuidv7()
  const entryId = uuidv7()
  await ctx.db.insert(baselines).values({ id: baselineId, name: 'Golden', homeTenantId: tenantId })
  await ctx.db.insert(baselineContents).values({ contentHash: 'x', payload: {}, assignments: [] }).onConflictDoNothing()
  await ctx.db.insert(baselineEntries).values({
    id: entryId,
    baselineId,
    policyType: 'deviceConfiguration',
    displayName: 'Item',
    sourceTenantId: tenantId,
    sourceItemId: itemId,
    sourceExternalId: 'object-1',
    contentHash: 'x',
    compare: { mode: 'whole', assignments: true },
    addedInVersion: 1,
  })
  await ctx.db.insert(baselineVersions).values({ baselineId, number: 1, summary: 'Created', entries: [] })
  await ctx.db.insert(baselineAssignments).values({ tenantId, baselineId, enabled: true })
  const finding = (path: string, state: 'open' | 'excepted') => ({
    id: uuidv7(),
    tenantId,
    baselineId,
    entryId,
    itemId,
    path,
    label: path,
    kind: 'changed' as const,
    expected: 1,
    actual: 2,
    severity: 'medium' as const,
    state,
    firstSeenAt: new Date(),
    lastSeenAt: new Date(),
    exception: state === 'excepted' ? { value: 2, reason: 'ok', approved_by: 'x', expires_at: null } : null,
  })
  const open = finding('a', 'open')
  const excepted = finding('b', 'excepted')
  await ctx.db.insert(findings).values([open, excepted])
  return { baselineId, findingId: open.id, exceptedFindingId: excepted.id }
}

describe('run abilities', () => {
  // The role table: cancel / re-run (operations.manage) for owners and managers, operators their own runs only.
  const manages = { owner: true, manager: true, operator: false, readonly: false } as const
  it.each(ROLES.filter((r) => r !== 'readonly'))('%s gets the abilities of the role table', async (role) => {
    const setup = await setUp()
    const get = async (runId: string) =>
      (
        JSON.parse(
          (
            await ctx.request({
              method: 'GET',
              url: `/api/tenants/${setup.tenantId}/operation-runs/${runId}`,
              token: callers[role],
            })
          ).body,
        ) as {
          abilities: { cancel: boolean; rerun: boolean; undo: boolean }
        }
      ).abilities
    // The target's runs: an active one can be cancelled, a completed one re-run, by those who manage others' runs.
    expect(await get(setup.runId)).toEqual({ cancel: manages[role], rerun: false, undo: false })
    expect(await get(setup.doneRunId)).toEqual({ cancel: false, rerun: manages[role], undo: false })
    // A finished bulk run: Undo (a restore) for those whose role allows restore.execute, never from its type's name.
    expect((await get(setup.bulkRunId)).undo).toBe(capabilitiesOf(role).includes('restore.execute'))
    // The caller's own run: an operator may cancel it too.
    const me = JSON.parse((await ctx.request({ method: 'GET', url: '/api/me', token: callers[role] })).body) as {
      user: { id: string }
    }
    const own = await ctx.engine.startRun({
      tenantId: setup.tenantId,
      type: 'test.noop',
      context: { own: role },
      initiatorUserId: me.user.id,
      actor: { kind: 'user', userId: me.user.id, ip: null },
    })
    expect(await get(own.run.id)).toEqual({ cancel: true, rerun: false, undo: false })
  })
})

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const STATUS_CODES: Record<number, string> = { 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found' }

/**
 * One setup shared by every case that changes nothing (reads, and refusals); a case that succeeds in
 * changing something gets a fresh one. A refusal that wrongly succeeds fails its own case.
 */
let shared: CaseSetup | undefined
const setupFor = async (route: string, expected: number) =>
  MUTATING.has(route.split(' ')[0]!) && expected < 400 ? setUp() : (shared ??= await setUp())

/** Sends a route's request (the SSE stream over real HTTP: its status, then hang up). */
async function send(route: string, spec: RouteCase, setup: CaseSetup, token: string | undefined) {
  const { url, payload, headers } = spec.request(setup)
  if (route.endsWith('/events')) {
    const controller = new AbortController()
    const response = await fetch(`${baseUrl}${url}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
      signal: controller.signal,
    })
    controller.abort()
    return {
      statusCode: response.status,
      body: '{"error":{"code":"' + (STATUS_CODES[response.status] ?? '') + '","message":""}}',
    }
  }
  return ctx.request({
    method: route.split(' ')[0],
    url,
    payload: payload as Record<string, unknown> | undefined,
    ...(headers ? { headers } : {}),
    token,
  })
}

async function expectStatus(
  route: string,
  spec: RouteCase,
  expected: number,
  token: string | undefined,
  setup?: CaseSetup,
) {
  const response = await send(route, spec, setup ?? (await setupFor(route, expected)), token)
  expect(response.statusCode, `${route}: ${response.body.slice(0, 300)}`).toBe(expected)
  if (expected >= 400) expect(errorOf(response.body).code).toBe(STATUS_CODES[expected])
  return response
}

describe('authorization table', () => {
  it('covers every tenant-scoped route the app serves: a new route fails here until it has a row', () => {
    const served = routesOf(ctx.app)
      .filter((r) => r.url.startsWith('/api/tenants/:tenantId'))
      .map((r) => `${r.method} ${r.url}`)
      .sort()
    expect(served).toEqual(Object.keys(TABLE).sort())
  })

  it('names, for every route, capabilities its allowed roles all have', () => {
    for (const [route, spec] of Object.entries(TABLE)) {
      for (const role of spec.allowed)
        for (const key of spec.need) expect(capabilitiesOf(role), `${route} ${role}`).toContain(key)
    }
  })

  const cases = Object.entries(TABLE).flatMap(([route, spec]) => [
    ...ROLES.map((role) => ({
      route,
      spec,
      caller: role,
      expected: spec.allowed.includes(role) ? spec.ok : (spec.denied ?? 403),
    })),
    { route, spec, caller: 'stranger' as const, expected: 404 },
    { route, spec, caller: 'anonymous' as const, expected: 401 },
  ])

  it.each(cases)('$route as $caller → $expected', async ({ route, spec, caller, expected }) => {
    await expectStatus(route, spec, expected, caller === 'anonymous' ? undefined : callers[caller])
  })

  // Every id in a path from another tenant the caller owns too: never found through this one.
  const foreign = Object.entries(TABLE).filter(([route, spec]) => /:(?!tenantId)\w+/.test(route) && !spec.crossTenant)
  it.each(foreign.map(([route, spec]) => ({ route, spec })))(
    '$route with the ids of another of the caller’s tenants → 404',
    async ({ route, spec }) => {
      const here = (shared ??= await setUp())
      const elsewhere = await setUp()
      const { url, payload, headers } = spec.request({ ...elsewhere, tenantId: here.tenantId })
      const response = await ctx.request({
        method: route.split(' ')[0],
        url,
        payload: payload as Record<string, unknown> | undefined,
        ...(headers ? { headers } : {}),
        token: callers.owner,
      })
      expect(response.statusCode, `${route}: ${response.body.slice(0, 200)}`).toBe(404)
    },
  )

  it('answers 404, not 403, for a tenant id that does not exist or is malformed', async () => {
    for (const id of ['0195f3c2-0000-7000-8000-000000000000', 'not-a-uuid', "1'; drop table tenants;--"]) {
      const response = await ctx.request({
        method: 'GET',
        url: `/api/tenants/${encodeURIComponent(id)}`,
        token: callers.owner,
      })
      expect(response.statusCode).toBe(404)
    }
  })

  it('answers 404 before validating the body of a foreign tenant route', async () => {
    const setup = await setUp()
    const response = await ctx.request({
      method: 'PATCH',
      url: `/api/tenants/${setup.tenantId}`,
      payload: { bogus: 1 },
      token: callers.stranger,
    })
    expect(response.statusCode).toBe(404)
  })
})

describe('token scopes: every route with an owner’s token of each scope', () => {
  /** The owner's tokens: full, and one per single scope key (the narrower of role and scope wins). */
  const scoped = {} as Record<'full' | ScopeKey, string>
  // workspace.admin is for admins only (the owner is not one): every other key, and full.
  const SINGLES = SCOPE_KEYS.filter((k) => k !== 'workspace.admin')
  beforeAll(async () => {
    const me = await ctx.request({ method: 'GET', url: '/api/me', token: callers.owner })
    const ownerId = (JSON.parse(me.body) as { user: { id: string } }).user.id
    for (const scope of ['full', ...SINGLES] as const)
      scoped[scope] = (await createApiToken(ctx.db, { kind: 'system' }, ownerId, { name: scope, scope })).secret
  })

  const cases = Object.entries(TABLE).flatMap(([route, spec]) =>
    (['full', ...SINGLES] as const).map((scope) => {
      const allows = scope === 'full' || (spec.need.length === 1 && spec.need[0] === scope)
      return {
        route,
        spec,
        scope,
        expected: allows ? spec.ok : (spec.singles?.[scope as ScopeKey] ?? spec.denied ?? 403),
      }
    }),
  )

  it.each(cases)('$route with scope $scope → $expected', async ({ route, spec, scope, expected }) => {
    await expectStatus(route, spec, expected, scoped[scope])
  })
})

describe('every non-public API route needs credentials', () => {
  it('answers 401 without them', async () => {
    const routes = routesOf(ctx.app).filter(
      (r) => r.url.startsWith('/api/') && !r.url.startsWith('/api/docs') && !PUBLIC_API_ROUTES.has(r.url),
    )
    expect(routes.length).toBeGreaterThan(10)
    for (const route of routes) {
      const url = route.url.replaceAll(/:\w+/g, '0195f3c2-0000-7000-8000-000000000000')
      const response = await ctx.request({
        method: route.method,
        url,
        payload: route.method === 'GET' || route.method === 'DELETE' ? undefined : {},
      })
      expect(response.statusCode, `${route.method} ${route.url}`).toBe(401)
    }
  })

  it('answers 401 for a revoked or made-up token', async () => {
    const response = await ctx.request({ method: 'GET', url: '/api/me', token: 'ta_pat_madeup' })
    expect(response.statusCode).toBe(401)
    expect(errorOf(response.body).message).toMatch(/token/i)
  })
})

describe('a read-scoped API token', () => {
  let readToken: string
  beforeAll(async () => {
    const me = await ctx.request({ method: 'GET', url: '/api/me', token: callers.owner })
    const ownerId = (JSON.parse(me.body) as { user: { id: string } }).user.id
    readToken = (await createApiToken(ctx.db, { kind: 'system' }, ownerId, { name: 'read', scope: 'read' })).secret
  })

  // The same table: an owner may use every route, so what the token is refused comes from its scope alone.
  const readCases = Object.entries(TABLE).map(([route, spec]) => ({
    route,
    spec,
    expected: MUTATING.has(route.split(' ')[0]!)
      ? 403
      : spec.need.includes('restore.execute')
        ? (spec.denied ?? 403)
        : spec.ok,
  }))

  it.each(readCases)('$route with an owner’s read token → $expected', async ({ route, spec, expected }) => {
    const response = await expectStatus(route, spec, expected, readToken)
    if (expected === 403) expect(errorOf(response.body).message).toMatch(/read-only/)
  })

  it('is refused on every other mutating API route too', async () => {
    const routes = routesOf(ctx.app).filter(
      (r) =>
        MUTATING.has(r.method) &&
        r.url.startsWith('/api/') &&
        !r.url.startsWith('/api/tenants/:tenantId') &&
        !PUBLIC_API_ROUTES.has(r.url),
    )
    expect(routes.map((r) => `${r.method} ${r.url}`)).toEqual(
      expect.arrayContaining([
        'POST /api/tokens',
        'DELETE /api/tokens/:tokenId',
        'POST /api/tenants',
        'POST /api/users',
      ]),
    )
    for (const route of routes) {
      const url = route.url.replaceAll(/:\w+/g, '0195f3c2-0000-7000-8000-000000000000')
      const response = await ctx.request({
        method: route.method,
        url,
        payload: route.hasBody ? { name: 'x' } : undefined,
        token: readToken,
      })
      expect(response.statusCode, `${route.method} ${route.url}: ${response.body}`).toBe(403)
    }
  })
})

describe('comparisons: read access to both sides', () => {
  it('every role of both tenants compares them; a caller missing either side gets 404, anonymous 401', async () => {
    const here = await setUp()
    const there = await setUp()
    const body = { left: { tenant_id: here.tenantId }, right: { tenant_id: there.tenantId } }
    const post = (token: string | undefined, payload: unknown = body) =>
      ctx.request({ method: 'POST', url: '/api/comparisons', payload: payload as Record<string, unknown>, token })
    for (const role of ROLES) {
      const created = await post(callers[role])
      expect(created.statusCode, `${role}: ${created.body}`).toBe(201)
      const { comparison } = JSON.parse(created.body) as { comparison: { id: string } }
      for (const url of [`/api/comparisons/${comparison.id}`, `/api/comparisons/${comparison.id}/export?format=md`]) {
        expect((await ctx.request({ method: 'GET', url, token: callers[role] })).statusCode, `${role} ${url}`).toBe(200)
        expect((await ctx.request({ method: 'GET', url, token: callers.stranger })).statusCode).toBe(404)
        expect((await ctx.request({ method: 'GET', url })).statusCode).toBe(401)
      }
    }
    // The target is a member of both tenants too, but the outsider of neither; the stranger of another.
    expect((await post(callers.stranger)).statusCode).toBe(404)
    expect((await post(undefined)).statusCode).toBe(401)
    const elsewhere = await ctx.factories.tenant()
    const oneSide = await post(callers.owner, {
      left: { tenant_id: here.tenantId },
      right: { tenant_id: elsewhere.id },
    })
    expect(oneSide.statusCode).toBe(404)
  })
})

describe('baselines: through their home tenant', () => {
  it('viewers of the home tenant read it, its owners and managers change it; others get 404, anonymous 401', async () => {
    const setup = await setUp()
    const url = `/api/baselines/${setup.baselineId}`
    for (const role of ROLES) {
      for (const read of [url, `${url}/versions`, `${url}/entries`, `${url}/diff?from=1&to=1`]) {
        const response = await ctx.request({ method: 'GET', url: read, token: callers[role] })
        expect(response.statusCode, `${role} ${read}: ${response.body}`).toBe(200)
      }
      const listed = await ctx.request({ method: 'GET', url: '/api/baselines', token: callers[role] })
      expect((JSON.parse(listed.body) as { data: { id: string }[] }).data.map((b) => b.id)).toContain(setup.baselineId)
      const patch = await ctx.request({ method: 'PATCH', url, payload: { name: `By ${role}` }, token: callers[role] })
      expect(patch.statusCode, `${role} PATCH`).toBe(role === 'owner' || role === 'manager' ? 200 : 403)
      const create = await ctx.request({
        method: 'POST',
        url: '/api/baselines',
        payload: { name: 'New', from: { tenant_id: setup.tenantId, item_ids: [setup.itemId] } },
        token: callers[role],
      })
      expect(create.statusCode, `${role} POST: ${create.body}`).toBe(role === 'owner' || role === 'manager' ? 201 : 403)
    }
    for (const token of [callers.stranger, undefined]) {
      const expected = token ? 404 : 401
      expect((await ctx.request({ method: 'GET', url, token })).statusCode).toBe(expected)
      expect((await ctx.request({ method: 'PATCH', url, payload: { name: 'x' }, token })).statusCode).toBe(expected)
      expect(
        (await ctx.request({ method: 'DELETE', url: `${url}/entries/${setup.baselineId}`, token })).statusCode,
      ).toBe(expected)
      expect((await ctx.request({ method: 'GET', url: '/api/baselines', token })).statusCode).toBe(token ? 200 : 401)
    }
    const stranger = await ctx.request({ method: 'GET', url: '/api/baselines', token: callers.stranger })
    expect((JSON.parse(stranger.body) as { data: { id: string }[] }).data.map((b) => b.id)).not.toContain(
      setup.baselineId,
    )
    expect((await ctx.request({ method: 'DELETE', url, token: callers.operator })).statusCode).toBe(403)
    expect((await ctx.request({ method: 'DELETE', url, token: callers.manager })).statusCode).toBe(204)
  })
})

describe('alerts: workspace admins, and tenant owners for rules of their own tenants', () => {
  type Who = 'admin' | Role | 'stranger' | 'anonymous'
  /**
   * Each alerts route: what each caller gets (tenant roles are the callers' roles in a fresh tenant; the
   * stranger owns another tenant). Anyone not named gets 403.
   */
  const ALERT_ROUTES: Record<
    string,
    { expect: Partial<Record<Who, number>>; request: (s: AlertSetup) => { url: string; payload?: unknown } }
  > = {
    'GET /api/alert-channels': {
      expect: { admin: 200, owner: 200, stranger: 200 },
      request: () => ({ url: '/api/alert-channels' }),
    },
    'POST /api/alert-channels': {
      expect: { admin: 201 },
      request: () => ({
        url: '/api/alert-channels',
        payload: { kind: 'teams', name: 'T', url: 'https://t.example/x' },
      }),
    },
    'PATCH /api/alert-channels/:channelId': {
      expect: { admin: 200 },
      request: (s) => ({ url: `/api/alert-channels/${s.channelId}`, payload: { name: 'Renamed' } }),
    },
    'DELETE /api/alert-channels/:channelId': {
      expect: { admin: 204 },
      request: (s) => ({ url: `/api/alert-channels/${s.channelId}` }),
    },
    'POST /api/alert-channels/:channelId/test': {
      // Nothing listens at the channel's address: the test answers what happened, as 200.
      expect: { admin: 200 },
      request: (s) => ({ url: `/api/alert-channels/${s.channelId}/test` }),
    },
    'GET /api/alert-rules': {
      expect: { admin: 200, owner: 200, stranger: 200 },
      request: () => ({ url: '/api/alert-rules' }),
    },
    'POST /api/alert-rules': {
      // The stranger owns another tenant only: naming this one is a 422 that does not reveal it.
      expect: { admin: 201, owner: 201, stranger: 422 },
      request: (s) => ({
        url: '/api/alert-rules',
        payload: {
          name: 'R',
          events: ['run.failed'],
          tenants: { tenant_ids: [s.tenantId] },
          channel_ids: [s.channelId],
        },
      }),
    },
    'PATCH /api/alert-rules/:ruleId': {
      expect: { admin: 200, owner: 200, stranger: 404 },
      request: (s) => ({ url: `/api/alert-rules/${s.ruleId}`, payload: { name: 'Renamed' } }),
    },
    'DELETE /api/alert-rules/:ruleId': {
      expect: { admin: 204, owner: 204, stranger: 404 },
      request: (s) => ({ url: `/api/alert-rules/${s.ruleId}` }),
    },
    'GET /api/alert-deliveries': {
      expect: { admin: 200, owner: 200, stranger: 200 },
      request: () => ({ url: '/api/alert-deliveries' }),
    },
  }
  type AlertSetup = { tenantId: string; channelId: string; ruleId: string }
  let adminToken: string

  beforeAll(async () => {
    adminToken = (await ctx.factories.userWithToken({ isAdmin: true })).token
  })

  async function alertSetup(): Promise<AlertSetup> {
    const { tenantId } = await setUp()
    const channel = await ctx.request({
      method: 'POST',
      url: '/api/alert-channels',
      token: adminToken,
      payload: { kind: 'webhook', name: 'W', url: 'http://127.0.0.1:9/unreachable' },
    })
    const channelId = (JSON.parse(channel.body) as { id: string }).id
    const rule = await ctx.request({
      method: 'POST',
      url: '/api/alert-rules',
      token: adminToken,
      payload: { name: 'R', events: ['run.failed'], tenants: { tenant_ids: [tenantId] }, channel_ids: [channelId] },
    })
    return { tenantId, channelId, ruleId: (JSON.parse(rule.body) as { id: string }).id }
  }

  it('covers every alerts route the app serves', () => {
    const served = routesOf(ctx.app)
      .filter((r) => /^\/api\/alert-/.test(r.url))
      .map((r) => `${r.method} ${r.url}`)
    expect(served.sort()).toEqual(Object.keys(ALERT_ROUTES).sort())
  })

  const cases = Object.entries(ALERT_ROUTES).flatMap(([route, spec]) =>
    (['admin', ...ROLES, 'stranger', 'anonymous'] as const).map((who) => ({
      route,
      spec,
      who,
      expected: who === 'anonymous' ? 401 : (spec.expect[who] ?? 403),
    })),
  )

  it.each(cases)('$route as $who → $expected', async ({ route, spec, who, expected }) => {
    const setup = await alertSetup()
    const { url, payload } = spec.request(setup)
    const token = who === 'admin' ? adminToken : who === 'anonymous' ? undefined : callers[who]
    const response = await ctx.request({
      method: route.split(' ')[0],
      url,
      payload: payload as Record<string, unknown> | undefined,
      token,
    })
    expect(response.statusCode, `${route}: ${response.body.slice(0, 300)}`).toBe(expected)
  })

  it('an owner neither sees nor changes a rule naming a tenant they do not own (404), nor names one (422)', async () => {
    const mine = await alertSetup()
    const theirs = await alertSetup()
    // The owner of `mine` is an owner of `theirs` too (the callers are members of every setup): a fresh tenant instead.
    const foreign = await ctx.factories.tenant()
    const rule = await ctx.request({
      method: 'POST',
      url: '/api/alert-rules',
      token: adminToken,
      payload: {
        name: 'Foreign',
        events: ['run.failed'],
        tenants: { tenant_ids: [foreign.id] },
        channel_ids: [mine.channelId],
      },
    })
    const foreignRule = (JSON.parse(rule.body) as { id: string }).id
    for (const method of ['PATCH', 'DELETE'] as const) {
      const response = await ctx.request({
        method,
        url: `/api/alert-rules/${foreignRule}`,
        token: callers.owner,
        ...(method === 'PATCH' ? { payload: { name: 'Mine now' } } : {}),
      })
      expect(response.statusCode).toBe(404)
    }
    const listed = JSON.parse(
      (await ctx.request({ method: 'GET', url: '/api/alert-rules', token: callers.owner })).body,
    ) as { data: { id: string }[] }
    expect(listed.data.map((r) => r.id)).toEqual(expect.arrayContaining([mine.ruleId, theirs.ruleId]))
    expect(listed.data.map((r) => r.id)).not.toContain(foreignRule)
    const naming = await ctx.request({
      method: 'POST',
      url: '/api/alert-rules',
      token: callers.owner,
      payload: {
        name: 'x',
        events: ['run.failed'],
        tenants: { tenant_ids: [foreign.id] },
        channel_ids: [mine.channelId],
      },
    })
    expect(naming.statusCode).toBe(422)
    expect(errorOf(naming.body).message).toContain('tenants.tenant_ids.0')
    const all = await ctx.request({
      method: 'POST',
      url: '/api/alert-rules',
      token: callers.owner,
      payload: { name: 'x', events: ['run.failed'], tenants: { all: true }, channel_ids: [mine.channelId] },
    })
    expect(all.statusCode).toBe(403)
  })

  it('an admin token without alerts.manage is refused (403)', async () => {
    const me = await ctx.request({ method: 'GET', url: '/api/me', token: adminToken })
    const adminId = (JSON.parse(me.body) as { user: { id: string } }).user.id
    const narrow = (await createApiToken(ctx.db, { kind: 'system' }, adminId, { name: 'n', scope: 'tenant.view' }))
      .secret
    const response = await ctx.request({ method: 'GET', url: '/api/alert-channels', token: narrow })
    expect(response.statusCode).toBe(403)
  })
})
