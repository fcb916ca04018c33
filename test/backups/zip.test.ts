import { randomUUID } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Readable } from 'node:stream'
import { count, eq } from 'drizzle-orm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backupSets, inventoryContents } from '../../src/db/schema.ts'
import { importBackup } from '../../src/modules/backups/commands.ts'
import { DEFAULT_IMPORT_LIMITS, receiveUpload } from '../../src/modules/backups/zip-import.ts'
import { createTestContext, errorOf, ORIGIN, type TestContext } from '../harness.ts'
import { setHashes, type BackupBody } from './helpers.ts'
import { seedBackupSet, type SeedObject } from './seed.ts'
import { unzip, zipOf } from './zip-helpers.ts'

let ctx: TestContext
let source: { tenantId: string; token: string; userId: string }
let target: { tenantId: string; token: string; userId: string }
let backupId: string
let exported: Buffer

const objects: SeedObject[] = [
  {
    policyType: 'deviceConfiguration',
    externalId: 'a1',
    displayName: 'Baseline',
    payload: { '@odata.type': '#microsoft.graph.windows10GeneralConfiguration', passwordRequired: true },
    assignments: [{ target: { groupId: 'g1' } }],
  },
  // The same display name twice: two files, neither overwrites the other.
  {
    policyType: 'deviceConfiguration',
    externalId: 'a2',
    displayName: 'Baseline',
    payload: { passwordRequired: false },
    assignments: [],
  },
  {
    policyType: 'deviceConfiguration',
    externalId: 'a3',
    displayName: '../../etc/passwd: *?',
    payload: { x: 'é ☃' },
    assignments: [],
  },
  {
    policyType: 'deviceCompliancePolicy',
    externalId: 'c1',
    displayName: 'Compliance',
    payload: { osMinimumVersion: '10.0' },
    assignments: [],
  },
]

async function member() {
  const tenant = await ctx.factories.tenant()
  const { user, token } = await ctx.factories.userWithToken()
  await ctx.factories.member(tenant.id, user, 'owner')
  return { tenantId: tenant.id, token, userId: user.id }
}

beforeAll(async () => {
  ctx = await createTestContext({ worker: false })
  source = await member()
  target = await member()
  backupId = (await seedBackupSet(ctx.db, source.tenantId, objects, { name: 'Quarterly' })).id
  const response = await ctx.request({
    method: 'GET',
    url: `/api/tenants/${source.tenantId}/backups/${backupId}/export`,
    token: source.token,
  })
  expect(response.statusCode).toBe(200)
  expect(response.headers['content-type']).toBe('application/zip')
  exported = response.rawPayload
})
afterAll(() => ctx.close())

const importZip = (zip: Buffer, to = target) =>
  ctx.request({
    method: 'POST',
    url: `/api/tenants/${to.tenantId}/backups/import`,
    token: to.token,
    headers: { origin: ORIGIN, 'content-type': 'application/zip' },
    payload: zip,
  })

const stored = async (tenantId: string) => ({
  sets: (await ctx.db.select({ n: count() }).from(backupSets).where(eq(backupSets.tenantId, tenantId)))[0]!.n,
  contents: (
    await ctx.db.select({ n: count() }).from(inventoryContents).where(eq(inventoryContents.tenantId, tenantId))
  )[0]!.n,
})

/** The import is refused with a 422 whose message matches, and stores nothing. */
async function refused(zip: Buffer, reason: RegExp) {
  const before = await stored(target.tenantId)
  const response = await importZip(zip)
  expect(response.statusCode, response.body).toBe(422)
  expect(errorOf(response.body).code).toBe('invalid_backup_file')
  expect(errorOf(response.body).message).toMatch(reason)
  expect(await stored(target.tenantId)).toEqual(before)
}

describe('backup ZIP export', () => {
  it('has manifest.json first, a folder per type, one file per object named by display name and id', async () => {
    const entries = await unzip(exported)
    expect(entries[0]![0]).toBe('manifest.json')
    expect(
      entries
        .slice(1)
        .map(([name]) => name)
        .sort(),
    ).toEqual(
      [
        'deviceCompliancePolicy/Compliance (c1).json',
        'deviceConfiguration/Baseline (a1).json',
        'deviceConfiguration/Baseline (a2).json',
        'deviceConfiguration/__.._etc_passwd_ __ (a3).json',
      ].sort(),
    )
    const manifest = JSON.parse(entries[0]![1]) as {
      name: string
      item_count: number
      counts_by_type: Record<string, number>
      objects: { file: string; sha256: string }[]
    }
    expect(manifest).toMatchObject({
      name: 'Quarterly',
      item_count: 4,
      counts_by_type: { deviceCompliancePolicy: 1, deviceConfiguration: 3 },
    })
    const files = Object.fromEntries(entries)
    for (const listed of manifest.objects)
      expect((JSON.parse(files[listed.file]!) as { sha256: string }).sha256).toBe(listed.sha256)
    const baseline = JSON.parse(files['deviceConfiguration/Baseline (a1).json']!) as Record<string, unknown>
    expect(baseline).toMatchObject({
      type: 'deviceConfiguration',
      id: 'a1',
      display_name: 'Baseline',
      assignments: [{ target: { groupId: 'g1' } }],
    })
  })

  it('import of an export is a set identical object by object, marked as imported', async () => {
    const response = await importZip(exported)
    expect(response.statusCode, response.body).toBe(201)
    const body = JSON.parse(response.body) as BackupBody & { source_tenant: { id: string } }
    expect(body).toMatchObject({
      name: 'Quarterly',
      origin: 'imported',
      status: 'complete',
      item_count: 4,
      source_tenant: { id: source.tenantId },
    })
    expect(await setHashes(ctx, body.id)).toEqual(await setHashes(ctx, backupId))
    // Exported again, the same objects and hashes.
    const again = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${target.tenantId}/backups/${body.id}/export`,
      token: target.token,
    })
    const strip = (entries: [string, string][]) => entries.slice(1)
    expect(strip(await unzip(again.rawPayload))).toEqual(strip(await unzip(exported)))
  })

  it('names with non-ASCII characters survive the round trip (UTF-8 names in the central directory)', async () => {
    const named: SeedObject[] = ['Richtlinie für Geräte', 'Stratégie ☃', 'ポリシー'].map((name, i) => ({
      policyType: 'deviceConfiguration',
      externalId: `u${i}`,
      displayName: name,
      payload: { i },
      assignments: [],
    }))
    const set = await seedBackupSet(ctx.db, source.tenantId, named)
    const response = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${source.tenantId}/backups/${set.id}/export`,
      token: source.token,
    })
    const names = (await unzip(response.rawPayload)).map(([n]) => n)
    expect(names.slice(1).sort()).toEqual(
      [
        'deviceConfiguration/Richtlinie für Geräte (u0).json',
        'deviceConfiguration/Stratégie ☃ (u1).json',
        'deviceConfiguration/ポリシー (u2).json',
      ].sort(),
    )
    const imported = await importZip(response.rawPayload)
    expect(imported.statusCode, imported.body).toBe(201)
    expect(await setHashes(ctx, (JSON.parse(imported.body) as BackupBody).id)).toEqual(await setHashes(ctx, set.id))
  })

  it('exports a large set page by page (3,000 objects, a central directory of several chunks): every entry once', async () => {
    const many: SeedObject[] = Array.from({ length: 3000 }, (_, i) => ({
      policyType: 'deviceConfiguration',
      externalId: `m${i}`,
      displayName: `Policy ${i % 50}`,
      payload: { i },
      assignments: [],
    }))
    const set = await seedBackupSet(ctx.db, source.tenantId, many)
    const response = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${source.tenantId}/backups/${set.id}/export`,
      token: source.token,
    })
    const entries = await unzip(response.rawPayload)
    expect(entries).toHaveLength(3001)
    expect(new Set(entries.map(([n]) => n)).size).toBe(3001)
  })
})

/** A multipart/form-data body as a browser (or `curl -F`) sends it. */
async function form(fields: [string, string | { data: Buffer; filename: string }][]) {
  const body = new FormData()
  for (const [name, value] of fields) {
    if (typeof value === 'string') body.append(name, value)
    else body.append(name, new Blob([new Uint8Array(value.data)], { type: 'application/zip' }), value.filename)
  }
  const encoded = new Response(body)
  return { payload: Buffer.from(await encoded.arrayBuffer()), contentType: encoded.headers.get('content-type')! }
}

const importForm = async (fields: Parameters<typeof form>[0]) => {
  const { payload, contentType } = await form(fields)
  return ctx.request({
    method: 'POST',
    url: `/api/tenants/${target.tenantId}/backups/import`,
    token: target.token,
    headers: { origin: ORIGIN, 'content-type': contentType },
    payload,
  })
}

describe('backup ZIP import from a form (multipart/form-data)', () => {
  it('takes the ZIP from the field "file", as the raw body: the same set', async () => {
    const response = await importForm([
      ['note', 'from the console'],
      ['file', { data: exported, filename: 'Quarterly.zip' }],
    ])
    expect(response.statusCode, response.body).toBe(201)
    const body = JSON.parse(response.body) as BackupBody
    expect(body).toMatchObject({ name: 'Quarterly', origin: 'imported', status: 'complete', item_count: 4 })
    expect(await setHashes(ctx, body.id)).toEqual(await setHashes(ctx, backupId))
  })

  it('a form without the file, or with it in another field, is a 422 naming the field; nothing stored', async () => {
    const before = await stored(target.tenantId)
    for (const [fields, reason] of [
      [[['note', 'no file here']], /no file.*"file"/],
      [[['zip', { data: exported, filename: 'Quarterly.zip' }]], /field "zip".*"file"/],
    ] as const) {
      const response = await importForm(fields as unknown as Parameters<typeof form>[0])
      expect(response.statusCode, response.body).toBe(422)
      expect(errorOf(response.body)).toMatchObject({
        code: 'invalid_backup_file',
        message: expect.stringMatching(reason),
      })
    }
    expect(await stored(target.tenantId)).toEqual(before)
  })

  it('a bad ZIP in a form is refused as in a raw body (422 naming the problem, nothing stored)', async () => {
    const before = await stored(target.tenantId)
    const entries = await unzip(exported)
    const tampered = await zipOf(
      entries.map(([name, text]): [string, string] =>
        name === 'deviceConfiguration/Baseline (a2).json'
          ? [name, text.replace('"passwordRequired": false', '"passwordRequired": true')]
          : [name, text],
      ),
    )
    const response = await importForm([['file', { data: tampered, filename: 'tampered.zip' }]])
    expect(response.statusCode, response.body).toBe(422)
    expect(errorOf(response.body)).toMatchObject({
      code: 'invalid_backup_file',
      message: expect.stringMatching(/Baseline \(a2\)\.json.*SHA-256/),
    })
    const truncated = await importForm([['file', { data: exported.subarray(0, 100), filename: 'short.zip' }]])
    expect(truncated.statusCode).toBe(422)
    expect(await stored(target.tenantId)).toEqual(before)
  })

  it('a form cut off in the middle is a 422, not a 500', async () => {
    const { payload, contentType } = await form([['file', { data: exported, filename: 'Quarterly.zip' }]])
    const response = await ctx.request({
      method: 'POST',
      url: `/api/tenants/${target.tenantId}/backups/import`,
      token: target.token,
      headers: { origin: ORIGIN, 'content-type': contentType },
      payload: payload.subarray(0, payload.length - 200),
    })
    expect(response.statusCode, response.body).toBe(422)
    expect(errorOf(response.body).code).toBe('invalid_backup_file')
  })
})

describe('backup ZIP import refuses bad files with a 422 naming the problem, storing nothing', () => {
  it('corrupt: not a ZIP at all', async () => {
    await refused(Buffer.from('this is not a zip file, just text '.repeat(100)), /not a readable ZIP/i)
  })

  it('truncated', async () => {
    await refused(exported.subarray(0, Math.floor(exported.length / 2)), /not a readable ZIP|damaged/i)
  })

  it('a hash mismatch: one object changed after export', async () => {
    const entries = await unzip(exported)
    const tampered = entries.map(([name, text]): [string, string] =>
      name === 'deviceConfiguration/Baseline (a2).json'
        ? [name, text.replace('"passwordRequired": false', '"passwordRequired": true')]
        : [name, text],
    )
    await refused(await zipOf(tampered), /Baseline \(a2\)\.json.*SHA-256/)
  })

  it('an object missing from the file (listed in the manifest)', async () => {
    const entries = (await unzip(exported)).filter(([name]) => name !== 'deviceCompliancePolicy/Compliance (c1).json')
    await refused(await zipOf(entries), /Compliance \(c1\)\.json.*not in the file/)
  })

  it('an entry twice (the same name: one would overwrite the other on disk)', async () => {
    const entries = await unzip(exported)
    await refused(await zipOf([...entries, entries[1]!]), /appears twice/)
  })

  it('a path that leaves the archive (../)', async () => {
    const entries = await unzip(exported)
    const zip = await zipOf([...entries, ['xx/evil.json', '{}']])
    // Same length, so the archive stays well-formed: the name becomes ../evil.json in both headers.
    const evil = Buffer.from(zip.toString('latin1').replaceAll('xx/evil.json', '../evil.json'), 'latin1')
    await refused(evil, /outside the archive/)
  })

  it('a ZIP bomb: an entry that expands too many times', async () => {
    const entries = await unzip(exported)
    await refused(
      await zipOf([...entries, ['deviceConfiguration/bomb.json', Buffer.alloc(40 * 1024 * 1024, 0x20)]]),
      /expands .*ZIP bomb/,
    )
  })

  it('oversized: an upload past the size limit stops, and an archive past its limits is refused', async () => {
    const path = join(tmpdir(), `tenantatlas-test-${randomUUID()}.zip`)
    await expect(receiveUpload(Readable.from([exported, exported]), path, exported.length + 10)).rejects.toMatchObject({
      status: 422,
      message: expect.stringMatching(/larger than the limit/),
    })
    await writeFile(path, exported)
    const before = await stored(target.tenantId)
    const access = { tenantId: target.tenantId, userId: target.userId, role: 'owner' as const }
    await expect(
      importBackup(ctx.db, access, { kind: 'system' }, path, { ...DEFAULT_IMPORT_LIMITS, maxEntries: 3 }),
    ).rejects.toMatchObject({ status: 422, message: expect.stringMatching(/5 entries: at most 3/) })
    await expect(
      importBackup(ctx.db, access, { kind: 'system' }, path, { ...DEFAULT_IMPORT_LIMITS, maxUncompressedBytes: 100 }),
    ).rejects.toMatchObject({ status: 422, message: expect.stringMatching(/expands to more than 100 bytes/) })
    expect(await stored(target.tenantId)).toEqual(before)
  })

  it('an object that is not a backup object, and a manifest that is not a manifest', async () => {
    const entries = await unzip(exported)
    const broken = entries.map(([name, text]): [string, string] =>
      name === 'deviceCompliancePolicy/Compliance (c1).json'
        ? [name, '{"type": "deviceCompliancePolicy"}']
        : [name, text],
    )
    await refused(await zipOf(broken), /Compliance \(c1\)\.json.*not a backup object/)
    await refused(await zipOf([['manifest.json', '{"format": "other"}']]), /manifest\.json is not a backup manifest/)
    await refused(await zipOf(entries.slice(1)), /no manifest\.json/)
  })
})
