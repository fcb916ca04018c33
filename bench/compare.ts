import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { sql } from 'drizzle-orm'
import { openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { comparisons } from '../src/db/schema.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { computeComparison } from '../src/modules/compare/compute.ts'
import { presentSide, type Side } from '../src/modules/compare/sides.ts'
import { documentKeys, documentObjects } from '../src/modules/documentation/document.ts'
import { htmlStream, markdownZip } from '../src/modules/documentation/formats.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { APP_KEY, withFreshPostgres } from './lib.ts'

/**
 * Compare and documentation (issue 27): two tenants of BENCH_COMPARE_OBJECTS (10,000) objects each
 * (twelve settings, two assignments to one of 200 groups per object; the groups have other ids but the
 * same names in the other tenant, and 1 % of the objects differ in one setting), compared as the
 * `compare.run` handler does (computeComparison: match, map by name, diff, rows written); then one
 * tenant documented as a Markdown ZIP and as HTML through the export's own renderer into a byte counter
 * (the run adds 1 MiB chunk inserts), before the comparison. Time, and the process's peak RSS and heap
 * sampled every 50 ms (RSS never shrinks: each figure includes what ran before it in the process).
 */

const OBJECTS = Number(process.env.BENCH_COMPARE_OBJECTS ?? 10_000)

async function seedTenant(
  db: ReturnType<typeof openPostgres>['db'],
  secrets: SecretBox,
  name: string,
  variant: number,
) {
  const tenant = await addTenant(
    db,
    secrets,
    { kind: 'system' },
    {
      name,
      entra_tenant_id: crypto.randomUUID(),
      client_id: crypto.randomUUID(),
      client_secret: 'bench',
      cloud: 'emulator',
    },
  )
  const runId = uuidv7()
  await db.execute(sql`
    INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, assignments,
                                 content_hash, first_seen_run_id, last_seen_run_id)
    SELECT gen_random_uuid(), ${tenant.id}, 'group', gen_random_uuid()::text, 'Group ' || g, 'Dependencies', 'all', '{}', '[]',
           'g' || g, ${runId}, ${runId}
      FROM generate_series(1, 200) AS g`)
  await db.execute(sql`
    WITH groups AS (SELECT array_agg(external_id ORDER BY display_name) AS ids FROM inventory_items
                    WHERE tenant_id = ${tenant.id} AND policy_type = 'group')
    INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, assignments,
                                 content_hash, first_seen_run_id, last_seen_run_id)
    SELECT gen_random_uuid(), ${tenant.id}, (ARRAY['deviceConfiguration','deviceCompliancePolicy','mobileApp','deviceManagementScript'])[1 + i % 4],
           gen_random_uuid()::text, 'Object ' || i, 'Configuration', 'windows',
           jsonb_build_object('@odata.type', '#microsoft.graph.windows10GeneralConfiguration', 'displayName', 'Object ' || i,
             'passwordMinimumLength', CASE WHEN ${variant} = 1 AND i % 100 = 0 THEN 14 ELSE 12 END,
             'passwordRequired', true, 'description', 'Setting text ' || i, 'cameraBlocked', i % 2 = 0,
             'bluetoothBlocked', false, 'edgeBlockPopups', true, 'defenderScanType', 'full', 'storageRequireEncryption', true,
             'wiFiBlocked', false, 'screenCaptureBlocked', i % 3 = 0, 'roleScopeTagIds', jsonb_build_array('0')),
           jsonb_build_array(
             jsonb_build_object('target', jsonb_build_object('@odata.type', '#microsoft.graph.groupAssignmentTarget',
               'groupId', (groups.ids)[1 + i % 200])),
             jsonb_build_object('target', jsonb_build_object('@odata.type', '#microsoft.graph.exclusionGroupAssignmentTarget',
               'groupId', (groups.ids)[1 + (i * 7) % 200]))),
           'h' || i, ${runId}, ${runId}
      FROM generate_series(1, ${OBJECTS}) AS i, groups`)
  return tenant.id
}

/** Peak RSS while `work` runs, sampled every 50 ms. */
async function measured<T>(work: () => Promise<T>) {
  global.gc?.()
  const before = process.memoryUsage().rss
  let peak = before
  let heap = process.memoryUsage().heapUsed
  const timer = setInterval(() => {
    const m = process.memoryUsage()
    peak = Math.max(peak, m.rss)
    heap = Math.max(heap, m.heapUsed)
  }, 50)
  const t0 = performance.now()
  try {
    const result = await work()
    return {
      result,
      seconds: Math.round((performance.now() - t0) / 10) / 100,
      peak_rss_mib: Math.round(peak / 1048576),
      peak_heap_mib: Math.round(heap / 1048576),
      rss_before_mib: Math.round(before / 1048576),
    }
  } finally {
    clearInterval(timer)
  }
}

export async function runCompareBench() {
  return withFreshPostgres(async (url) => {
    const handle = openPostgres(url, 4)
    const secrets = new SecretBox(Buffer.from(APP_KEY, 'base64'))
    try {
      await runMigrations(handle)
      const db = handle.db
      const left = await seedTenant(db, secrets, 'Bench left', 0)
      const right = await seedTenant(db, secrets, 'Bench right', 1)
      await db.execute(sql`VACUUM ANALYZE inventory_items`)
      const side = (tenantId: string): Side => ({ kind: 'tenant', tenantId, at: null, label: tenantId })
      const documented = async (format: 'markdown' | 'html') =>
        measured(async () => {
          const keys = await documentKeys(db, side(left))
          const input = {
            title: 'Bench',
            keys,
            objects: documentObjects(db, side(left), keys, { includeAssignments: true }),
            includeAssignments: true,
            changes: null,
          }
          let bytes = 0
          for await (const chunk of format === 'markdown' ? markdownZip(input) : htmlStream(input))
            bytes += (chunk as Buffer | string).length
          return bytes
        })
      const markdown = await documented('markdown')
      const html = await documented('html')
      // The same exports, each in a process of its own (bench/docs-child.ts): the peak RSS is the export's.
      const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-docs-'))
      const child = (format: 'markdown' | 'html', flags: string[] = []) => {
        const output = execFileSync(
          process.execPath,
          [...flags, path.resolve('bench/docs-child.ts'), format, url, left, path.join(dir, `doc.${format}`)],
          { encoding: 'utf8' },
        )
        return JSON.parse(output.trim().split('\n').at(-1)!) as {
          ms: number
          bytes: number
          peak_rss_mib: number
          baseline_rss_mib: number
          peak_heap_mib: number
        }
      }
      const ownMarkdown = child('markdown')
      const ownHtml = child('html')
      // V8 collects lazily while memory is plentiful: with its old space capped, the same export shows
      // what it needs (the worker can be started so: NODE_OPTIONS=--max-old-space-size=…).
      const cap = ['--max-old-space-size=128', '--max-semi-space-size=8']
      const cappedMarkdown = child('markdown', cap)
      const cappedHtml = child('html', cap)
      rmSync(dir, { recursive: true, force: true })
      const id = uuidv7()
      await db.insert(comparisons).values({
        id,
        left: presentSide(side(left)),
        right: presentSide(side(right)),
        leftTenantId: left,
        rightTenantId: right,
        status: 'running',
      })
      const compare = await measured(() => computeComparison(db, id))
      const [row] = await db
        .select({ counts: comparisons.counts })
        .from(comparisons)
        .where(sql`id = ${id}`)
      return {
        objects_per_tenant: OBJECTS,
        compare_s: compare.seconds,
        compare_peak_rss_mib: compare.peak_rss_mib,
        compare_peak_heap_mib: compare.peak_heap_mib,
        compare_rss_before_mib: compare.rss_before_mib,
        counts: row?.counts,
        docs_markdown_s: markdown.seconds,
        docs_markdown_peak_rss_mib: markdown.peak_rss_mib,
        docs_markdown_peak_heap_mib: markdown.peak_heap_mib,
        docs_markdown_rss_before_mib: markdown.rss_before_mib,
        docs_markdown_mib: Math.round((markdown.result / 1048576) * 10) / 10,
        docs_html_s: html.seconds,
        docs_html_peak_rss_mib: html.peak_rss_mib,
        docs_html_peak_heap_mib: html.peak_heap_mib,
        docs_html_mib: Math.round((html.result / 1048576) * 10) / 10,
        docs_own_process_markdown: ownMarkdown,
        docs_own_process_html: ownHtml,
        docs_own_process_capped: { flags: cap.join(' '), markdown: cappedMarkdown, html: cappedHtml },
        cpus: os.cpus().length,
        load_average_1m: Number(os.loadavg()[0]!.toFixed(1)),
      }
    } finally {
      await handle.close()
    }
  })
}

export function printCompare(r: Awaited<ReturnType<typeof runCompareBench>>) {
  console.log(
    `\nCompare two tenants of ${r.objects_per_tenant} objects: ${r.compare_s} s (target ≤ 10 s), peak RSS ${r.compare_peak_rss_mib} MiB (heap ${r.compare_peak_heap_mib} MiB; RSS before ${r.compare_rss_before_mib} MiB)`,
  )
  console.log(`  ${JSON.stringify(r.counts)}`)
  console.log(
    `Documentation of ${r.objects_per_tenant} objects: Markdown ZIP ${r.docs_markdown_s} s, ${r.docs_markdown_mib} MiB, peak RSS ${r.docs_markdown_peak_rss_mib} MiB (heap ${r.docs_markdown_peak_heap_mib}; RSS before ${r.docs_markdown_rss_before_mib}); HTML ${r.docs_html_s} s, ${r.docs_html_mib} MiB, peak RSS ${r.docs_html_peak_rss_mib} MiB (heap ${r.docs_html_peak_heap_mib}) (targets ≤ 60 s, ≤ 300 MB; ${r.cpus} CPUs, load average ${r.load_average_1m})`,
  )
  for (const [format, c] of [
    ['Markdown ZIP', r.docs_own_process_markdown],
    ['HTML', r.docs_own_process_html],
    [`Markdown ZIP, ${r.docs_own_process_capped.flags}`, r.docs_own_process_capped.markdown],
    [`HTML, ${r.docs_own_process_capped.flags}`, r.docs_own_process_capped.html],
  ] as const)
    console.log(
      `  in a process of its own, ${format}: ${(c.ms / 1000).toFixed(2)} s, ${(c.bytes / 1048576).toFixed(1)} MiB, peak RSS ${c.peak_rss_mib} MiB (at start ${c.baseline_rss_mib} MiB; heap peak ${c.peak_heap_mib} MiB) (target ≤ 300 MB)`,
    )
}
