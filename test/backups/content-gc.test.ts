import { randomUUID } from 'node:crypto'
import { eq, sql } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backupSets, inventoryContents } from '../../src/db/schema.ts'
import { uuidv7 } from '../../src/lib/ids.ts'
import { deleteBackup } from '../../src/modules/backups/commands.ts'
import { pinObjects, type BackupObject } from '../../src/modules/backups/store.ts'
import { contentHashOf } from '../../src/modules/backups/zip-import.ts'
import { collectContents } from '../../src/modules/inventory/content-store.ts'
import { createTestContext, ORIGIN, type TestContext } from '../harness.ts'
import { waitForCompletion } from '../inventory/helpers.ts'
import { seedBackupSet, type SeedObject } from './seed.ts'

/**
 * Garbage collection of inventory_contents (ADR 018): deleting or pruning sets frees the content
 * rows nothing references any more, never one a version, another set, or a writer in flight uses.
 */
let ctx: TestContext
beforeAll(async () => {
  ctx = await createTestContext({ worker: true })
})
afterAll(() => ctx.close())

const object = (name: string, value: unknown): SeedObject => ({
  policyType: 'deviceConfiguration',
  externalId: `id-${name}`,
  displayName: name,
  payload: { value },
  assignments: [],
})
const hashOf = (o: SeedObject) => contentHashOf(o.payload, o.assignments)
const pinnable = (o: SeedObject): BackupObject => ({ ...o, contentHash: hashOf(o) })
const system = { kind: 'system' as const }

async function owner() {
  const tenant = await ctx.factories.tenant()
  const { user, token } = await ctx.factories.userWithToken()
  await ctx.factories.member(tenant.id, user, 'owner')
  return { tenantId: tenant.id, token, access: { tenantId: tenant.id, userId: user.id, role: 'owner' as const } }
}

const hashesOf = async (tenantId: string) =>
  (
    await ctx.db
      .select({ h: inventoryContents.contentHash })
      .from(inventoryContents)
      .where(eq(inventoryContents.tenantId, tenantId))
  )
    .map((r) => r.h)
    .sort()

/** Set items whose content row is gone: must always be 0. */
async function dangling(tenantId: string) {
  const { rows } = await ctx.db.execute<{ n: number }>(sql`
    SELECT count(*)::int AS n FROM backup_set_items i JOIN backup_sets s ON s.id = i.backup_id
    LEFT JOIN inventory_contents c ON c.tenant_id = s.tenant_id AND c.content_hash = i.content_hash
    WHERE s.tenant_id = ${tenantId} AND c.content_hash IS NULL`)
  return rows[0]!.n
}

/** An inventory item with one version of this content (what the sync writes). */
async function versionOf(tenantId: string, o: SeedObject) {
  const itemId = randomUUID()
  const runId = randomUUID()
  await ctx.db.execute(sql`
    INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, content_hash, first_seen_run_id, last_seen_run_id)
    VALUES (${itemId}, ${tenantId}, ${o.policyType}, ${o.externalId}, ${o.displayName}, 'Configuration', 'windows', ${JSON.stringify(o.payload)}::jsonb, ${hashOf(o)}, ${runId}, ${runId})`)
  await ctx.db.execute(
    sql`INSERT INTO inventory_versions (id, tenant_id, item_id, number, content_hash, run_id) VALUES (${randomUUID()}, ${tenantId}, ${itemId}, 1, ${hashOf(o)}, ${runId})`,
  )
}

async function runningSet(tenantId: string) {
  const id = uuidv7()
  await ctx.db.insert(backupSets).values({ id, tenantId, name: 'In flight', status: 'running', origin: 'created' })
  return id
}

/** Whether a promise is still pending after `ms`. */
const pendingAfter = async (promise: Promise<unknown>, ms: number) => {
  let settled = false
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  )
  await new Promise((resolve) => setTimeout(resolve, ms))
  return !settled
}

describe('content garbage collection', () => {
  it('deleting a set frees the content only it used; content a version or another set uses stays', async () => {
    const t = await owner()
    const [only, shared, versioned] = [object('only', 1), object('shared', 2), object('versioned', 3)]
    const doomed = await seedBackupSet(ctx.db, t.tenantId, [only, shared, versioned])
    await seedBackupSet(ctx.db, t.tenantId, [shared])
    await versionOf(t.tenantId, versioned)
    // Identical content in another tenant is that tenant's row.
    const other = await owner()
    await seedBackupSet(ctx.db, other.tenantId, [only])

    const response = await ctx.request({
      method: 'DELETE',
      url: `/api/tenants/${t.tenantId}/backups/${doomed.id}`,
      token: t.token,
      headers: { origin: ORIGIN },
    })
    expect(response.statusCode).toBe(204)
    expect(await hashesOf(t.tenantId)).toEqual([hashOf(shared), hashOf(versioned)].sort())
    expect(await hashesOf(other.tenantId)).toEqual([hashOf(only)])
    expect(await dangling(t.tenantId)).toBe(0)
  })

  it('pruning frees the content of the pruned sets, and keeps what the kept sets use', async () => {
    const t = await owner()
    const [a, b, c] = [object('a', 'a'), object('b', 'b'), object('c', 'c')]
    await seedBackupSet(ctx.db, t.tenantId, [a, b], { name: 'Old', createdAt: new Date(Date.now() - 400 * 86_400_000) })
    await seedBackupSet(ctx.db, t.tenantId, [b, c], { name: 'Latest' })
    await ctx.request({
      method: 'PUT',
      url: `/api/tenants/${t.tenantId}/backup-retention`,
      token: t.token,
      headers: { origin: ORIGIN },
      payload: { keep_last: 1, keep_days: 30 },
    })
    const started = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${t.tenantId}/backup-retention/prune`,
      token: t.token,
      headers: { origin: ORIGIN },
    })
    const { run } = JSON.parse(started.body) as { run: { id: string } }
    expect((await waitForCompletion(ctx, run.id)).outcome).toBe('succeeded')
    expect(
      (await ctx.db.select().from(backupSets).where(eq(backupSets.tenantId, t.tenantId))).map((s) => s.name),
    ).toEqual(['Latest'])
    expect(await hashesOf(t.tenantId)).toEqual([hashOf(b), hashOf(c)].sort())
  })

  it('waits for a backup in flight that is about to reference the same content, and keeps it', async () => {
    const t = await owner()
    const x = object('x', 'racing')
    const old = await seedBackupSet(ctx.db, t.tenantId, [x])
    const inFlight = await runningSet(t.tenantId)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let pinned = false
    // The writer found x's content row there (ON CONFLICT DO NOTHING) and references it, not yet committed.
    const writer = ctx.db.transaction(async (tx) => {
      await pinObjects(tx, t.tenantId, inFlight, [pinnable(x)])
      pinned = true
      await gate
    })
    while (!pinned) await new Promise((resolve) => setTimeout(resolve, 10))
    const deleting = deleteBackup(ctx.db, t.access, system, old.id)
    expect(await pendingAfter(deleting, 400)).toBe(true)
    expect(await hashesOf(t.tenantId)).toEqual([hashOf(x)])
    release()
    await writer
    expect(await deleting).toBe(0)
    expect(await hashesOf(t.tenantId)).toEqual([hashOf(x)])
    expect(await dangling(t.tenantId)).toBe(0)
  })

  it('a writer that comes while the collector runs waits for it, then stores the content again', async () => {
    const t = await owner()
    const y = object('y', 'collected')
    const old = await seedBackupSet(ctx.db, t.tenantId, [y])
    const next = await runningSet(t.tenantId)
    let release!: () => void
    const gate = new Promise<void>((resolve) => (release = resolve))
    let collected = -1
    const collector = ctx.db.transaction(async (tx) => {
      await tx.delete(backupSets).where(eq(backupSets.id, old.id))
      collected = await collectContents(tx, t.tenantId, [hashOf(y)])
      await gate
    })
    while (collected < 0) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(collected).toBe(1)
    const writer = ctx.db.transaction((tx) => pinObjects(tx, t.tenantId, next, [pinnable(y)]))
    expect(await pendingAfter(writer, 400)).toBe(true)
    release()
    await collector
    await writer
    expect(await hashesOf(t.tenantId)).toEqual([hashOf(y)])
    expect(await dangling(t.tenantId)).toBe(0)
  })

  it('deletes racing with backups of the same content never leave a set item without its content', async () => {
    const t = await owner()
    for (let round = 0; round < 15; round++) {
      const objects = Array.from({ length: 20 }, (_, i) => object(`r${i}`, `round-${round % 3}-${i}`))
      const old = await seedBackupSet(ctx.db, t.tenantId, objects)
      const next = await runningSet(t.tenantId)
      await Promise.all([
        deleteBackup(ctx.db, t.access, system, old.id),
        ctx.db.transaction((tx) => pinObjects(tx, t.tenantId, next, objects.map(pinnable))),
      ])
      await ctx.db.update(backupSets).set({ status: 'complete' }).where(eq(backupSets.id, next))
      expect(await dangling(t.tenantId), `round ${round}`).toBe(0)
    }
  })
})
