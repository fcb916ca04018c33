import { printEmbedded, runEmbeddedBench } from './embedded.ts'
import { runFoundationBench } from './foundation.ts'
import { runCompatBench } from './compat.ts'
import { runFaultsBench, runSettingsTopBench } from './graph-fidelity.ts'
import { runGraphBench } from './graph.ts'
import { printHistory, runHistoryBench } from './history.ts'
import { runInventoryBench } from './inventory.ts'
import { runBackupsBench } from './backups.ts'
import { runRestoreBench } from './restore.ts'
import { runBulkBench } from './bulk.ts'
import { printOverview, runOverviewBench } from './overview.ts'
import { printAssignments, runAssignmentsBench } from './assignments.ts'
import { printCompare, runCompareBench } from './compare.ts'
import { runOperationsBench } from './operations.ts'
import { runPlatformBench } from './platform.ts'
import { runWebBench } from './web.ts'
import { printSignIn, runSignInBench } from './sign-in.ts'
import { printAlerts, runAlertsBench } from './alerts.ts'
import { printDrift, runDriftBench } from './drift.ts'
import { hasWrk, writeReport } from './lib.ts'

/**
 * `npm run bench`: every benchmark, printed side by side and written to bench/results/.
 * `npm run bench -- embedded foundation operations platform graph settings-top faults inventory history web overview assignments sign-in compare alerts drift` runs a subset
 * (`compat --intunecd <path>` runs IntuneCD against the emulator; never part of the default set). Environment knobs:
 * BENCH_WRK_SECONDS (30), BENCH_RUNS (1,000,000), BENCH_TENANTS (1,000), BENCH_SAMPLES (100).
 */
const args = process.argv.slice(2)
const only = new Set(args.filter((a, i) => !a.startsWith('--') && args[i - 1] !== '--intunecd'))
const wanted = (name: string) => only.size === 0 || only.has(name)
if (!hasWrk()) console.log('wrk is not installed (apt-get install wrk): the load figures are skipped')

type Cell = string | number | null | undefined
const table = (title: string, columns: string[], rows: [string, ...Cell[]][]) => {
  console.log(`\n${title}`)
  console.log(`${''.padEnd(44)}${columns.map((c) => c.padStart(c.length >= 14 ? c.length + 2 : 14)).join('')}`)
  for (const [label, ...cells] of rows)
    console.log(
      `${label.padEnd(44)}${cells.map((v, i) => String(v ?? '-').padStart(Math.max(14, (columns[i]?.length ?? 0) + 2, String(v ?? '-').length + 2))).join('')}`,
    )
}

if (wanted('embedded')) {
  const embedded = await runEmbeddedBench()
  printEmbedded(embedded, table)
  console.log(`report: ${writeReport('embedded', embedded)}`)
}

if (wanted('foundation')) {
  const foundation = await runFoundationBench()
  const r = foundation.results
  table(
    `Foundation (wrk: ${foundation.wrk.connections} connections, ${foundation.wrk.seconds} s, GET /api/me with a bearer token)`,
    r.map((x) => x.engine),
    [
      ['start → /healthz 200, empty (ms)', ...r.map((x) => x.startup_empty_ms)],
      ['start → /healthz 200, populated (ms)', ...r.map((x) => x.startup_populated_ms)],
      ['idle RSS, empty (MiB)', ...r.map((x) => x.idle_rss_empty_mib)],
      ['idle RSS, populated (MiB)', ...r.map((x) => x.idle_rss_populated_mib)],
      ['RSS after the load (MiB)', ...r.map((x) => x.rss_after_load_mib)],
      ['GET /api/me p50 (ms)', ...r.map((x) => x.api_me?.p50_ms)],
      ['GET /api/me p99 (ms)', ...r.map((x) => x.api_me?.p99_ms)],
      ['GET /api/me requests/s', ...r.map((x) => x.api_me?.requests_per_s)],
    ],
  )
  console.log(`report: ${writeReport('foundation', foundation)}`)
}

if (wanted('operations')) {
  const operations = await runOperationsBench()
  const l = operations.lifecycle
  table(
    'Operations engine (idle worker; no-op runs)',
    l.map((x) => x.engine),
    [
      ['start → running p50 (ms)', ...l.map((x) => x.start_to_running_ms.p50)],
      ['start → running p95 (ms)       target ≤ 200', ...l.map((x) => x.start_to_running_ms.p95)],
      ['commit → SSE event p50 (ms)', ...l.map((x) => x.commit_to_sse_ms.p50)],
      ['commit → SSE event p95 (ms)    target ≤ 100', ...l.map((x) => x.commit_to_sse_ms.p95)],
      [`full lifecycle, runs/s (${l[0]!.lifecycle_runs} runs)`, ...l.map((x) => x.lifecycle_runs_per_s)],
      ['notifications written', ...l.map((x) => x.notifications_written)],
    ],
  )
  const m = operations.monitoring
  table(
    `Monitoring on PostgreSQL: ${m.runs.toLocaleString('en')} runs across ${m.tenants.toLocaleString('en')} tenants (seeded in ${m.seed_seconds} s)`,
    ['p50', 'p95'],
    [
      ['list, first page (ms)              ≤ 20', m.list_first_page_ms.p50, m.list_first_page_ms.p95],
      ['list, filtered page (ms)           ≤ 20', m.list_filtered_ms.p50, m.list_filtered_ms.p95],
      ['list, second page by cursor (ms)', m.list_second_page_ms.p50, m.list_second_page_ms.p95],
    ],
  )
  const a = m.active_under_wrk
  if (a)
    table(
      `GET …/operation-runs/active under wrk (64 connections, ${m.wrk_seconds} s)`,
      ['value'],
      [
        ['requests/s                         ≥ 3,000', a.requests_per_s],
        ['p50 (ms)', a.p50_ms],
        ['p99 (ms)                           ≤ 50', a.p99_ms],
        ['non-2xx', a.non_2xx],
      ],
    )
  console.log(`report: ${writeReport('operations', operations)}`)
}

if (wanted('platform')) {
  const { items: platform, schedules } = await runPlatformBench()
  table(
    `Per-item results on PostgreSQL: one run records ${platform.items.toLocaleString('en')} items (${platform.rows_recorded.toLocaleString('en')} rows)`,
    ['value'],
    [
      ['recording: running → completed (ms)', platform.recording_ms],
      ['rows/s', platform.rows_per_s],
      ['start → completed, wall (ms)', platform.start_to_completed_ms],
    ],
  )
  table(
    `GET …/items over HTTP (${platform.samples} samples)`,
    ['p50', 'p95'],
    [
      ['first page, 100 items (ms)         ≤ 20', platform.list_first_page_ms.p50, platform.list_first_page_ms.p95],
      ['status=failed page (ms)            ≤ 20', platform.list_failed_page_ms.p50, platform.list_failed_page_ms.p95],
      [
        'page at 90% by cursor (ms)',
        platform.list_deep_page_by_cursor_ms.p50,
        platform.list_deep_page_by_cursor_ms.p95,
      ],
    ],
  )
  table(
    `${schedules.tenants.toLocaleString('en')} tenants with a schedule each, due the same minute, ${schedules.schedulers} schedulers side by side`,
    ['value'],
    [
      ['time until every run is queued (ms)', schedules.all_queued_ms],
      ['runs/s', schedules.runs_per_s],
      ['runs queued (each with its job)', `${schedules.runs} (${schedules.runs_with_a_job})`],
      ['duplicates                         = 0', schedules.duplicates],
    ],
  )
  console.log(`report: ${writeReport('platform', { items: platform, schedules })}`)
}

if (wanted('graph')) {
  const graph = await runGraphBench()
  console.log(`report: ${writeReport('graph', graph)}`)
}

// Needs an IntuneCD checkout and Debian's python3: only when asked for by name.
if (only.has('compat')) console.log(`report: ${writeReport('compat', await runCompatBench(args))}`)

if (wanted('settings-top')) console.log(`report: ${writeReport('settings-top', await runSettingsTopBench())}`)
if (wanted('faults')) console.log(`report: ${writeReport('faults', await runFaultsBench())}`)

if (wanted('overview')) {
  const overview = await runOverviewBench()
  printOverview(overview)
  console.log(`report: ${writeReport('overview', overview)}`)
}

if (wanted('assignments')) {
  const assignments = await runAssignmentsBench()
  printAssignments(assignments)
  console.log(`report: ${writeReport('assignments', assignments)}`)
}

if (wanted('alerts')) {
  const alerts = await runAlertsBench()
  printAlerts(alerts)
  console.log(`report: ${writeReport('alerts', alerts)}`)
}

if (wanted('drift')) {
  const drift = await runDriftBench()
  printDrift(drift)
  console.log(`report: ${writeReport('drift', drift)}`)
}

if (wanted('compare')) {
  const compare = await runCompareBench()
  printCompare(compare)
  console.log(`report: ${writeReport('compare', compare)}`)
}

if (wanted('history')) {
  const history = await runHistoryBench()
  printHistory(history)
  console.log(`report: ${writeReport('history', history)}`)
}

if (wanted('inventory')) {
  const inventory = await runInventoryBench()
  console.log(`report: ${writeReport('inventory', inventory)}`)
}

if (only.has('restore')) {
  const restore = await runRestoreBench()
  console.log(`report: ${writeReport('restore', restore)}`)
}

// The content check's cost alone (issue 21): the same restore with and without lost answers.
if (only.has('content-check')) {
  const check = await runRestoreBench({ contentCheckOnly: true })
  console.log(`report: ${writeReport('content-check', check)}`)
}

if (only.has('backups') || only.has('backups-zip')) {
  const backups = await runBackupsBench({ zipOnly: !only.has('backups') })
  console.log(`report: ${writeReport('backups', backups)}`)
}

if (wanted('web')) {
  const web = await runWebBench()
  const r = web.results
  console.log(
    `\nWeb console: initial JS (entry + preloads) ${web.initial_js_static.gzip_kb} KB gzipped (${web.initial_js_static.raw_kb} KB raw, ${web.initial_js_static.files} files); build ${web.build_seconds} s`,
  )
  if (web.initial_route_js)
    console.log(
      `first visit to /t/{id}/inventory downloads ${web.initial_route_js.gzip_kb} KB of JS gzipped (${web.initial_route_js.raw_kb} KB raw, ${web.initial_route_js.files} files)   target ≤ 250 KB`,
    )
  table(
    `Web console in Chromium, ${r[0]?.items.toLocaleString('en')} inventory items in the tenant (p50 / p95 ms)`,
    r.map((x) => x.engine),
    [
      [
        'overview → inventory rendered        ≤ 1,000',
        ...r.map((x) => `${x.nav_to_inventory_ms.p50} / ${x.nav_to_inventory_ms.p95}`),
      ],
      [
        'cold load of the inventory page',
        ...r.map((x) => `${x.cold_load_inventory_ms.p50} / ${x.cold_load_inventory_ms.p95}`),
      ],
      ['search → filtered rows', ...r.map((x) => `${x.search_ms.p50} / ${x.search_ms.p95}`)],
      ['load more (cursor) → 100 rows', ...r.map((x) => `${x.load_more_ms.p50} / ${x.load_more_ms.p95}`)],
      [
        'DB progress commit → widget DOM      ≤ 500',
        ...r.map((x) => `${x.db_progress_to_widget_ms.p50} / ${x.db_progress_to_widget_ms.p95}`),
      ],
    ],
  )
  console.log(`report: ${writeReport('web', web)}`)
}

if (wanted('bulk')) {
  const bulk = await runBulkBench()
  const a = bulk.assign
  table(
    `Bulk operations (issue 16): assign on ${a.policies} policies of ${a.types} types, ${bulk.latency_ms} ms latency, write limit ${a.write_limit_per_20s} per 20 s`,
    ['value'],
    [
      ['outcome', a.outcome],
      ['writes', a.writes],
      ['wall time (s)', a.wall_s],
      ['write floor (s)', a.floor_s],
      ['wall ÷ floor                  target ≤ 1.25', a.wall_over_floor],
      ['429s received', a.throttled_429],
      ['Graph requests (reads in $batch members)', a.graph_requests],
    ],
  )
  const p = bulk.preview
  table(
    `Select all ${p.items.toLocaleString('en')} items of a filter, open the preview (server time)`,
    ['p50 (ms)', 'p95 (ms)'],
    [
      ['selection summary (the action bar)', p.selection_summary_ms.p50, p.selection_summary_ms.p95],
      ['dry-run plan, first 200 rows   target ≤ 1000', p.preview_first_rows_ms.p50, p.preview_first_rows_ms.p95],
    ],
  )
  console.log(`report: ${writeReport('bulk', bulk)}`)
}

if (wanted('sign-in')) {
  const signIn = await runSignInBench()
  printSignIn(signIn)
  console.log(`report: ${writeReport('sign-in', signIn)}`)
}
