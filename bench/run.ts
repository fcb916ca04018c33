import { runFoundationBench } from './foundation.ts'
import { hasWrk, writeReport } from './lib.ts'

/**
 * `npm run bench`: every benchmark, printed side by side and written to bench/results/.
 * BENCH_WRK_SECONDS shortens the load phase (default 30 s, as docs/benchmarks.md reports).
 */
if (!hasWrk()) console.log('wrk is not installed (apt-get install wrk): the load figures are skipped')

const foundation = await runFoundationBench()
const rows = foundation.results
const cell = (v: string | number | null | undefined) => String(v ?? '-').padStart(14)
console.log(`\nFoundation (wrk: ${foundation.wrk.connections} connections, ${foundation.wrk.seconds} s, ${foundation.wrk.path} with a bearer token)`)
console.log(`${''.padEnd(34)}${rows.map((r) => cell(r.engine)).join('')}`)
const line = (label: string, pick: (r: (typeof rows)[number]) => string | number | null | undefined) => console.log(`${label.padEnd(34)}${rows.map((r) => cell(pick(r))).join('')}`)
line('start → /healthz 200, empty (ms)', (r) => r.startup_empty_ms)
line('start → /healthz 200, populated (ms)', (r) => r.startup_populated_ms)
line('idle RSS, empty (MiB)', (r) => r.idle_rss_empty_mib)
line('idle RSS, populated (MiB)', (r) => r.idle_rss_populated_mib)
line('RSS after the load (MiB)', (r) => r.rss_after_load_mib)
line('GET /api/me p50 (ms)', (r) => r.api_me?.p50_ms)
line('GET /api/me p99 (ms)', (r) => r.api_me?.p99_ms)
line('GET /api/me requests/s', (r) => r.api_me?.requests_per_s)
line('GET /api/me non-2xx', (r) => r.api_me?.non_2xx)
console.log(`\nreport: ${writeReport('foundation', foundation)}`)
