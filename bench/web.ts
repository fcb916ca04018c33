import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { eq, sql } from 'drizzle-orm'
import { type Browser, type Page, chromium } from 'playwright-core'
import { clusterPaths, connectionString } from '../src/db/cluster.ts'
import { type DatabaseHandle, openPostgres } from '../src/db/engine.ts'
import { operationRuns, users } from '../src/db/schema.ts'
import { POLICY_TYPES } from '../src/graph/policy-types.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { publishRunUpdated } from '../src/modules/operations/live.ts'
import { APP_KEY, type Server, startServer, stopServer, withFreshPostgres } from './lib.ts'
import { percentile } from './operations.ts'

/**
 * The web console's figures (issue 6):
 * - initial-route JavaScript, gzipped: what a first visit to a tenant's inventory downloads;
 * - navigation → inventory table rendered, with 100,000 items in the tenant (client-side
 *   navigation from the tenant overview, and a cold page load);
 * - a run's progress change committed in the database → the progress widget's DOM showing it.
 * Measured in Debian's Chromium against a real `serve`, on both engines.
 */
const ITEMS = Number(process.env.BENCH_WEB_ITEMS ?? 100_000)
const SAMPLES = Number(process.env.BENCH_WEB_SAMPLES ?? 20)
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const ROWS = 50 // the first page

type EngineResult = {
  engine: 'embedded' | 'postgres'
  items: number
  seed_seconds: number
  nav_to_inventory_ms: { p50: number; p95: number; max: number }
  cold_load_inventory_ms: { p50: number; p95: number; max: number }
  search_ms: { p50: number; p95: number; max: number }
  load_more_ms: { p50: number; p95: number; max: number }
  db_progress_to_widget_ms: { p50: number; p95: number; max: number }
}

const stats = (values: number[]) => ({
  p50: percentile(values, 50),
  p95: percentile(values, 95),
  max: Math.round(Math.max(...values) * 100) / 100,
})

export async function runWebBench() {
  const started = performance.now()
  const build = spawnSync(path.resolve('node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { stdio: 'inherit' })
  if (build.status !== 0) throw new Error('vite build failed')
  const build_seconds = Math.round((performance.now() - started) / 100) / 10
  const bundle = staticInitialJs()

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu'] })
  try {
    const results: EngineResult[] = []
    let routeJs: { files: number; raw_kb: number; gzip_kb: number } | undefined
    for (const engine of ['embedded', 'postgres'] as const) {
      const run = async (
        env: Record<string, string>,
        open: (server: Server, dataDir: string) => DatabaseHandle,
        dataDir: string,
      ) => {
        const server = await startServer(env)
        const handle = open(server, dataDir)
        try {
          const result = await measureEngine(engine, browser, server, handle)
          routeJs ??= result.routeJs
          results.push(result.figures)
        } finally {
          await handle.close()
          await stopServer(server)
        }
      }
      const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-bench-web-'))
      try {
        if (engine === 'embedded')
          await run({ DATA_DIR: dataDir }, (_s, dir) => openPostgres(connectionString(clusterPaths(dir)), 4), dataDir)
        else
          await withFreshPostgres((url) =>
            run({ DATA_DIR: dataDir, DATABASE_URL: url, APP_KEY }, () => openPostgres(url, 4), dataDir),
          )
      } finally {
        rmSync(dataDir, { recursive: true, force: true })
      }
    }
    return { build_seconds, initial_js_static: bundle, initial_route_js: routeJs, results }
  } finally {
    await browser.close()
  }
}

/** The entry script and what index.html preloads: the JavaScript of every first visit, whatever the route. */
function staticInitialJs() {
  const dist = path.resolve('web/dist')
  const html = readFileSync(path.join(dist, 'index.html'), 'utf8')
  const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!)
  const sizes = files.map((f) => readFileSync(path.join(dist, f)))
  return {
    files: files.length,
    raw_kb: kb(sizes.reduce((n, b) => n + b.length, 0)),
    gzip_kb: kb(sizes.reduce((n, b) => n + gzipSync(b).length, 0)),
  }
}

function routeJsOf(paths: string[]) {
  const bodies = [...new Set(paths)].map((p) => readFileSync(path.join(path.resolve('web/dist'), p)))
  return {
    files: bodies.length,
    raw_kb: kb(bodies.reduce((n, b) => n + b.length, 0)),
    gzip_kb: kb(bodies.reduce((n, b) => n + gzipSync(b).length, 0)),
  }
}

const kb = (bytes: number) => Math.round((bytes / 1024) * 10) / 10

async function measureEngine(
  engine: 'embedded' | 'postgres',
  browser: Browser,
  server: Server,
  handle: DatabaseHandle,
) {
  const [, email, password] = /sign in as (\S+) with password (\S+)/.exec(server.output) ?? []
  if (!email || !password) throw new Error(`no first-start sign-in in the output: ${server.output}`)
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } })
  const page = await context.newPage()
  await page.goto(`${server.url}/login`)
  await page.getByLabel('E-mail').fill(email)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForURL(/\/t\/[0-9a-f-]+$/)
  const tenantId = new URL(page.url()).pathname.split('/')[2]!
  const [admin] = await handle.db.select().from(users).where(eq(users.email, email))

  const seedStarted = performance.now()
  await seedItems(handle, tenantId, ITEMS)
  const seed_seconds = Math.round((performance.now() - seedStarted) / 100) / 10
  console.log(`web bench (${engine}): ${ITEMS.toLocaleString('en')} items seeded in ${seed_seconds} s`)

  // Cold load of /t/{id}/inventory: from navigation start to the first page of rows in the DOM.
  await context.addInitScript({ content: PAGE_HELPERS })
  const cold: number[] = []
  let routeJs: { files: number; raw_kb: number; gzip_kb: number } | undefined
  for (let i = 0; i < Math.min(SAMPLES, 10); i++) {
    await page.goto(`${server.url}/t/${tenantId}/inventory`, { waitUntil: 'commit' })
    await page.waitForFunction('window.__rowsAt !== undefined', null, { timeout: 30_000 })
    cold.push(await page.evaluate<number>('window.__rowsAt'))
    // The JavaScript the page needed before its rows were on screen (not what is prefetched later).
    routeJs ??= routeJsOf(
      await page.evaluate<string[]>(
        `performance.getEntriesByType('resource').filter((e) => e.name.endsWith('.js') && e.responseEnd <= window.__rowsAt).map((e) => new URL(e.name).pathname)`,
      ),
    )
  }

  // Client-side navigation: the tenant overview → click "Inventory" → rows in the DOM.
  const nav: number[] = []
  for (let i = 0; i < SAMPLES; i++) {
    await page.goto(`${server.url}/t/${tenantId}`)
    await page.getByRole('heading', { name: 'Recent operations' }).waitFor()
    nav.push(
      await timeUntilRows(page, () =>
        page
          .getByRole('navigation', { name: 'Main navigation' })
          .getByRole('link', { name: 'Inventory', exact: true })
          .click(),
      ),
    )
  }
  // Search (the name filter, ILIKE over 100k names) and the next page by cursor.
  const search: number[] = []
  const more: number[] = []
  for (let i = 0; i < Math.min(SAMPLES, 10); i++) {
    await page.goto(`${server.url}/t/${tenantId}/inventory`)
    await page
      .getByTestId('inventory-row')
      .nth(ROWS - 1)
      .waitFor()
    more.push(await timeUntilRows(page, () => page.getByRole('button', { name: 'Load more' }).click(), ROWS * 2))
    const term = `Item ${String(1 + i).padStart(2, '0')}`
    search.push(await timeUntil(page, () => page.getByLabel('Search').fill(term), 'rowsMatching', term))
  }

  const widget = await measureWidget(page, server, handle, tenantId, admin!.id)
  await context.close()
  return {
    routeJs,
    figures: {
      engine,
      items: ITEMS,
      seed_seconds,
      nav_to_inventory_ms: stats(nav),
      cold_load_inventory_ms: stats(cold),
      search_ms: stats(search),
      load_more_ms: stats(more),
      db_progress_to_widget_ms: stats(widget),
    } satisfies EngineResult,
  }
}

/**
 * In-page helpers (a string: this file type-checks against Node, not the DOM). `__rowsAt` is when
 * the first page of inventory rows reached the DOM after navigation start; `__arm(kind, arg)`
 * starts watching for a condition, `__waited()` resolves with the milliseconds from arming to it.
 */
const PAGE_HELPERS = `
  const rows = () => [...document.querySelectorAll('[data-testid="inventory-row"]')]
  const conditions = {
    rowsAtLeast: (n) => rows().length >= n,
    rowsMatching: (text) => rows().length > 0 && rows().every((r) => r.textContent.includes(text)),
    widgetCounts: (text) => (document.querySelector('[data-testid="progress-widget-counts"]')?.textContent ?? '').startsWith(text),
  }
  new MutationObserver((_m, observer) => {
    if (rows().length >= ${ROWS}) { window.__rowsAt = performance.now(); observer.disconnect() }
  }).observe(document, { childList: true, subtree: true })
  window.__arm = (kind, arg) => {
    const armedAt = performance.now()
    const check = () => conditions[kind](arg)
    const done = () => ({ ms: performance.now() - armedAt, at: performance.timeOrigin + performance.now() })
    // Watching starts here, before the test acts: nothing can happen unobserved.
    const promise = new Promise((resolve) => {
      const observer = new MutationObserver(() => {
        if (check()) { observer.disconnect(); resolve(done()) }
      })
      observer.observe(document.body, { childList: true, subtree: true, characterData: true })
    })
    window.__waited = () => promise
  }
`

type Waited = { ms: number; at: number }

/** Milliseconds from `act` to at least `rows` inventory rows in the DOM. */
async function timeUntilRows(page: Page, act: () => Promise<unknown>, rows = ROWS): Promise<number> {
  return timeUntil(page, act, 'rowsAtLeast', rows)
}

/** Milliseconds from just before `act` to the condition holding in the DOM (a MutationObserver in the page). */
async function timeUntil(page: Page, act: () => Promise<unknown>, kind: string, arg: unknown): Promise<number> {
  await page.evaluate(([k, a]) => (globalThis as unknown as { __arm(kind: unknown, arg: unknown): void }).__arm(k, a), [
    kind,
    arg,
  ] as const)
  await act()
  return (await page.evaluate<Waited>('window.__waited()')).ms
}

/** 100,000 items spread over the catalog's policy types, with names that sort and search like real ones. */
async function seedItems(handle: DatabaseHandle, tenantId: string, count: number) {
  const types = POLICY_TYPES.filter((t) => t.kind === 'policy')
  const runId = uuidv7()
  const keys = sql.raw(`ARRAY[${types.map((t) => `'${t.key}'`).join(',')}]`)
  const categories = sql.raw(`ARRAY[${types.map((t) => `'${t.category}'`).join(',')}]`)
  for (let start = 1; start <= count; start += 25_000) {
    const end = Math.min(count, start + 24_999)
    await handle.db.execute(sql`
      INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, assignments, content_hash, graph_last_modified_at, first_seen_run_id, last_seen_run_id)
      SELECT gen_random_uuid(), ${tenantId}::uuid, (${keys})[1 + i % ${types.length}], 'bench-' || i, 'Item ' || lpad(i::text, 6, '0'),
             (${categories})[1 + i % ${types.length}], 'windows', jsonb_build_object('displayName', 'Item ' || i, 'n', i), '[]'::jsonb,
             md5(i::text), now() - (i || ' minutes')::interval, ${runId}::uuid, ${runId}::uuid
      FROM generate_series(${start}::int, ${end}::int) AS i`)
  }
  await handle.db.execute(sql`ANALYZE inventory_items`)
}

/**
 * A running run (an unknown type, so no worker touches it) whose progress the bench writes as the
 * engine does: UPDATE summary_counts and NOTIFY in one transaction. Each sample is the time from
 * the start of that transaction to the widget's counts text changing in the page.
 */
async function measureWidget(
  page: Page,
  server: Server,
  handle: DatabaseHandle,
  tenantId: string,
  adminId: string,
): Promise<number[]> {
  const runId = uuidv7()
  await handle.db.transaction(async (tx) => {
    await tx.insert(operationRuns).values({
      id: runId,
      tenantId,
      type: 'bench.progress',
      status: 'running',
      initiatorUserId: adminId,
      identityKey: runId,
      context: {},
      summaryCounts: { total: 1000, processed: 0 },
      heartbeatAt: new Date(),
      startedAt: new Date(),
    })
    await publishRunUpdated(tx, { id: runId, tenantId, status: 'running', cancelRequestedAt: null })
  })
  await page.goto(`${server.url}/t/${tenantId}`)
  await page.getByTestId('progress-widget-counts').filter({ hasText: '0 / 1,000' }).waitFor()
  const samples: number[] = []
  for (let i = 1; i <= SAMPLES * 2; i++) {
    await page.evaluate(
      ([k, a]) => (globalThis as unknown as { __arm(kind: unknown, arg: unknown): void }).__arm(k, a),
      ['widgetCounts', `${i} / 1,000 (`] as const,
    )
    const committedFrom = performance.timeOrigin + performance.now()
    await handle.db.transaction(async (tx) => {
      await tx
        .update(operationRuns)
        .set({ summaryCounts: { total: 1000, processed: i }, heartbeatAt: new Date() })
        .where(eq(operationRuns.id, runId))
      await publishRunUpdated(tx, { id: runId, tenantId, status: 'running', cancelRequestedAt: null })
    })
    samples.push((await page.evaluate<Waited>('window.__waited()')).at - committedFrom)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  await handle.db.transaction(async (tx) => {
    await tx
      .update(operationRuns)
      .set({ status: 'completed', outcome: 'succeeded', completedAt: new Date() })
      .where(eq(operationRuns.id, runId))
    await publishRunUpdated(tx, { id: runId, tenantId, status: 'completed', cancelRequestedAt: null })
  })
  return samples
}
