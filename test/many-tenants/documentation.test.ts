import { readFileSync, writeFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { inventoryChanges } from '../../src/db/schema.ts'
import { uuidv7 } from '../../src/lib/ids.ts'
import { seedBackupSet } from '../backups/seed.ts'
import { unzip } from '../backups/zip-helpers.ts'
import { createTestContext, errorOf, ORIGIN, type TestContext } from '../harness.ts'
import { waitForCompletion } from '../inventory/helpers.ts'
import { seedItem } from './seed.ts'

/**
 * Golden files: test/many-tenants/golden/. Run with UPDATE_GOLDEN=1 to write them again after a
 * deliberate change of the document, and read the diff before committing.
 */
const GOLDEN = path.join(import.meta.dirname, 'golden')
const golden = (name: string, actual: string) => {
  const file = path.join(GOLDEN, name)
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, actual)
  expect(actual).toBe(readFileSync(file, 'utf8'))
}

let ctx: TestContext
let owner: { user: { id: string }; token: string }
let tenantId: string
let otherTenantId: string

const SALES = '6f1c0d3e-8c3a-4f0e-9a55-000000000001'
const FILTER = '6f1c0d3e-8c3a-4f0e-9a55-000000000002'

beforeAll(async () => {
  ctx = await createTestContext()
  owner = await ctx.factories.userWithToken()
  tenantId = (await ctx.factories.tenant({ name: 'Contoso' })).id
  otherTenantId = (await ctx.factories.tenant({ name: 'Fabrikam' })).id
  for (const id of [tenantId, otherTenantId]) await ctx.factories.member(id, owner.user, 'readonly')
  await seedItem(ctx.db, tenantId, { policyType: 'group', displayName: 'Sales | EMEA', externalId: SALES })
  await seedItem(ctx.db, tenantId, {
    policyType: 'assignmentFilter',
    displayName: 'Corporate devices',
    externalId: FILTER,
    payload: {
      displayName: 'Corporate devices',
      rule: '(device.deviceOwnership -eq "Corporate")',
      platform: 'windows10AndLater',
    },
  })
  await seedItem(ctx.db, tenantId, {
    policyType: 'roleScopeTag',
    displayName: 'Paris',
    externalId: '7',
    payload: { displayName: 'Paris' },
  })
  await seedItem(ctx.db, tenantId, {
    policyType: 'deviceConfiguration',
    displayName: 'Corporate Wi-Fi',
    externalId: '6f1c0d3e-8c3a-4f0e-9a55-000000000010',
    payload: {
      '@odata.type': '#microsoft.graph.windowsWifiConfiguration',
      displayName: 'Corporate Wi-Fi',
      ssid: 'corp',
      preSharedKey: 'hunter2',
      networkName: 'Corp <5 GHz>',
      roleScopeTagIds: ['0', '7'],
    },
    assignments: [
      {
        id: 'a1',
        target: {
          '@odata.type': '#microsoft.graph.groupAssignmentTarget',
          groupId: SALES,
          deviceAndAppManagementAssignmentFilterId: FILTER,
          deviceAndAppManagementAssignmentFilterType: 'include',
        },
      },
      { id: 'a2', target: { '@odata.type': '#microsoft.graph.allDevicesAssignmentTarget' } },
    ],
  })
  const compliance = await seedItem(ctx.db, tenantId, {
    policyType: 'deviceCompliancePolicy',
    displayName: 'Windows compliance',
    externalId: '6f1c0d3e-8c3a-4f0e-9a55-000000000011',
    payload: {
      '@odata.type': '#microsoft.graph.windows10CompliancePolicy',
      displayName: 'Windows compliance',
      passwordMinimumLength: 12,
      passwordRequired: true,
      roleScopeTagIds: ['0'],
    },
  })
  await ctx.db.insert(inventoryChanges).values({
    id: uuidv7(),
    tenantId,
    itemId: compliance,
    policyType: 'deviceCompliancePolicy',
    displayName: 'Windows compliance',
    kind: 'updated',
    detectedAt: new Date('2026-01-02T03:04:05.000Z'),
    runId: uuidv7(),
    changedBy: { user_principal_name: 'alice@contoso.com', activity: 'Patch', at: '2026-01-02T03:00:00.000Z' },
  })
})
afterAll(() => ctx.close())

async function exportDocs(body: Record<string, unknown>, tenant = tenantId) {
  const response = await ctx.request({
    method: 'POST',
    url: `/api/tenants/${tenant}/documentation`,
    token: owner.token,
    headers: { origin: ORIGIN },
    payload: body,
  })
  return response
}

async function exportAndDownload(body: Record<string, unknown>) {
  const response = await exportDocs(body)
  expect(response.statusCode, response.body).toBe(202)
  const { run } = JSON.parse(response.body) as { run: { id: string; type: string } }
  expect(run.type).toBe('docs.export')
  const done = await waitForCompletion(ctx, run.id)
  expect(done.outcome, JSON.stringify(done.failures)).toBe('succeeded')
  expect(done.summaryCounts).toMatchObject({ total: 4, processed: 4 })
  const download = await ctx.request({
    method: 'GET',
    url: `/api/tenants/${tenantId}/documentation/${run.id}/download`,
    token: owner.token,
  })
  expect(download.statusCode).toBe(200)
  return { bytes: download.rawPayload, headers: download.headers }
}

const CHANGED_SINCE = '2026-01-01T00:00:00.000Z'

describe('documentation export', () => {
  it('Markdown: a ZIP with an index, a folder per type, one file per object, the appendix (golden files)', async () => {
    const { bytes, headers } = await exportAndDownload({ format: 'markdown', changed_since: CHANGED_SINCE })
    expect(headers['content-type']).toBe('application/zip')
    expect(headers['content-disposition']).toBe('attachment; filename="Contoso _ now.zip"')
    const entries = await unzip(bytes)
    expect(entries.map(([name]) => name)).toEqual([
      'README.md',
      'assignmentFilter/Corporate devices (6f1c0d3e-8c3a-4f0e-9a55-000000000002).md',
      'deviceCompliancePolicy/Windows compliance (6f1c0d3e-8c3a-4f0e-9a55-000000000011).md',
      'deviceConfiguration/Corporate Wi-Fi (6f1c0d3e-8c3a-4f0e-9a55-000000000010).md',
      'roleScopeTag/Paris (7).md',
      'CHANGES.md',
    ])
    golden('docs-markdown.txt', entries.map(([name, text]) => `=== ${name} ===\n${text}`).join('\n'))
    const wifi = entries.find(([name]) => name.includes('Wi-Fi'))![1]
    expect(wifi).not.toContain('hunter2')
    expect(wifi).toContain('| Pre shared key | (secret, not shown) |')
    expect(wifi).toContain('| Include group Sales \\| EMEA | include filter Corporate devices |')
    expect(wifi).toContain('Scope tags: Default, Paris')
  })

  it('HTML: one self-contained document that prints cleanly (golden file)', async () => {
    const { bytes, headers } = await exportAndDownload({ format: 'html', changed_since: CHANGED_SINCE })
    expect(headers['content-type']).toBe('text/html; charset=utf-8')
    const text = bytes.toString('utf8')
    golden('docs.html', text)
    expect(text).not.toContain('hunter2')
    expect(text).toContain('Corp &lt;5 GHz&gt;')
    expect(text).toContain('@media print')
    expect(text).not.toMatch(/<script|<link|src=/)
    expect(text).toContain('alice@contoso.com')
  })

  it('is deterministic: the same input gives the same bytes', async () => {
    const first = await exportAndDownload({ format: 'markdown', include_assignments: true })
    const second = await exportAndDownload({ format: 'markdown', include_assignments: true })
    expect(second.bytes.equals(first.bytes)).toBe(true)
    const html1 = await exportAndDownload({ format: 'html' })
    const html2 = await exportAndDownload({ format: 'html' })
    expect(html2.bytes.equals(html1.bytes)).toBe(true)
  })

  it('names no group when assignments are off', async () => {
    const { bytes } = await exportAndDownload({ format: 'markdown', include_assignments: false })
    const entries = await unzip(bytes)
    const text = entries.map(([, t]) => t).join('\n')
    expect(text).not.toContain('Sales')
    expect(text).not.toContain('## Assignments')
    const html = (await exportAndDownload({ format: 'html', include_assignments: false })).bytes.toString('utf8')
    expect(html).not.toContain('Sales')
  })

  it('documents a backup set of the tenant; a backup of another tenant is a 404, a baseline a 422', async () => {
    const backup = await seedBackupSet(ctx.db, tenantId, [
      {
        policyType: 'deviceConfiguration',
        externalId: 'x1',
        displayName: 'From the backup',
        payload: { displayName: 'From the backup', ssid: 'old' },
        assignments: [],
      },
    ])
    const response = await exportDocs({ format: 'html', source: { backup_id: backup.id } })
    expect(response.statusCode, response.body).toBe(202)
    const { run } = JSON.parse(response.body) as { run: { id: string } }
    expect((await waitForCompletion(ctx, run.id)).outcome).toBe('succeeded')
    const download = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${tenantId}/documentation/${run.id}/download`,
      token: owner.token,
    })
    expect(download.body).toContain('From the backup')
    // Through the other tenant's URL: neither the backup nor the download is found.
    const foreign = await exportDocs({ format: 'html', source: { backup_id: backup.id } }, otherTenantId)
    expect(foreign.statusCode).toBe(404)
    const foreignDownload = await ctx.request({
      method: 'GET',
      url: `/api/tenants/${otherTenantId}/documentation/${run.id}/download`,
      token: owner.token,
    })
    expect(foreignDownload.statusCode).toBe(404)
    const baseline = await exportDocs({ format: 'html', source: { baseline_id: randomUUID() } })
    expect(baseline.statusCode).toBe(422)
    expect(JSON.stringify(errorOf(baseline.body).details)).toContain('source.baseline_id')
  })

  it.each([
    [{}, 'format'],
    [{ format: 'pdf' }, 'format'],
    [{ format: 'html', source: { now: true, backup_id: randomUUID() } }, 'source'],
    [{ format: 'html', changed_since: 'yesterday' }, 'changed_since'],
    [{ format: 'html', include_assignments: 'yes' }, 'include_assignments'],
  ])('refuses %j naming %s', async (body, field) => {
    const response = await exportDocs(body)
    expect([400, 422]).toContain(response.statusCode)
    expect(JSON.stringify(errorOf(response.body))).toContain(field)
  })
})
