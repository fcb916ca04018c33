import { execFileSync, spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { control, sleep, spawnEmulator, startServer, stopEmulator, stopServer, type Emulator } from './lib.ts'

/**
 * The embedded default (issue 10's figures): memory of `serve` as the sum of its Node process
 * and the embedded cluster's processes (PSS, from /proc/<pid>/smaps_rollup: shared pages split
 * between the processes that map them, so the sum is what the whole costs the machine);
 * `npm start` → /healthz 200 on an empty and a populated data directory; CLI latency beside a
 * running serve; peak memory during a 10,000- and a 100,000-object sync.
 *
 * With BENCH_EMBEDDED_BASELINE=<checkout of the PGlite-era main with node_modules>, the same
 * start-up, idle and CLI figures of that checkout are measured in the same run, side by side.
 */

const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 10)
const SYNC_SIZES = (process.env.BENCH_EMBEDDED_SYNCS ?? '10000,100000').split(',').filter(Boolean).map(Number)
const SCALE = Number(process.env.BENCH_EMBEDDED_SCALE ?? 20)
const NODE = process.execPath

function pssKiB(pid: number): number {
  try {
    return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0)
  } catch {
    return 0
  }
}

const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number)
  } catch {
    return []
  }
}

/** The Node process, plus the cluster's postmaster (from its postmaster.pid) and every backend under it. */
function memoryMiB(nodePid: number, dataDir: string): { node: number; cluster: number; total: number } {
  const node = pssKiB(nodePid)
  let cluster = 0
  const pidFile = path.join(dataDir, 'pgdata', 'postmaster.pid')
  if (existsSync(pidFile)) {
    const postmaster = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
    for (const pid of [postmaster, ...childrenOf(postmaster)]) cluster += pssKiB(pid)
  }
  const mib = (k: number) => Math.round(k / 102.4) / 10
  return { node: mib(node), cluster: mib(cluster), total: mib(node + cluster) }
}

/** `npm start` in `cwd` on `dataDir` (or the bench wrapper with a raised Graph budget): spawn → /healthz 200. */
const start = (cwd: string, dataDir: string, env: Record<string, string> = {}, script?: string) =>
  startServer({ DATA_DIR: dataDir, ...env }, { cwd, script: script && path.resolve(script) })

function cliMs(
  cwd: string,
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): { ms: number; out: string } {
  const started = performance.now()
  const out = execFileSync(NODE, ['--max-semi-space-size=8', 'src/cli.ts', ...args], {
    cwd,
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn', ...env },
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  })
  return { ms: Math.round(performance.now() - started), out }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Start-up, idle memory (empty, then populated by the CLI) and CLI latency of one checkout. */
async function idleFigures(cwd: string, label: string) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-bench-embedded-'))
  try {
    const empty = await start(cwd, dataDir)
    await sleep(IDLE_SECONDS * 1000)
    const idleEmpty = memoryMiB(empty.child.pid!, dataDir)
    // Beside the running serve: `migrate` (nothing to do) and `user create`, five times each.
    const migrate: number[] = []
    const userCreate: number[] = []
    for (let i = 0; i < 5; i++) {
      migrate.push(cliMs(cwd, dataDir, ['migrate']).ms)
      userCreate.push(
        cliMs(
          cwd,
          dataDir,
          ['user', 'create', '--email', `u${i}-${randomUUID().slice(0, 6)}@example.com`, '--name', 'U'],
          { TENANTATLAS_PASSWORD: 'bench-password-1' },
        ).ms,
      )
    }
    const help = cliMs(cwd, dataDir, ['--help']).ms
    await stopServer(empty)
    const warm = await start(cwd, dataDir)
    await sleep(IDLE_SECONDS * 1000)
    const idlePopulated = memoryMiB(warm.child.pid!, dataDir)
    await stopServer(warm)
    // Without serve: the command owns the data directory for its duration.
    const alone = cliMs(cwd, dataDir, ['migrate']).ms
    return {
      label,
      startup_empty_ms: Math.round(empty.startupMs),
      startup_populated_ms: Math.round(warm.startupMs),
      idle_empty_pss_mib: idleEmpty,
      idle_populated_pss_mib: idlePopulated,
      cli_help_ms: help,
      cli_migrate_beside_serve_ms: median(migrate),
      cli_user_create_beside_serve_ms: median(userCreate),
      cli_migrate_alone_ms: alone,
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

/** Peak memory of serve + cluster while a tenant of `objects` syncs (sampled every 200 ms). */
async function syncPeak(emulator: Emulator, objects: number) {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-bench-embedded-sync-'))
  try {
    const serve = await start(
      process.cwd(),
      dataDir,
      { GRAPH_EMULATOR_URL: emulator.url, BENCH_BUDGET_SCALE: String(SCALE) },
      'bench/embedded-serve.ts',
    )
    const secret = `bench-${randomUUID()}`
    const tenant = await control<{ tenant_id: string; client_id: string }>(emulator, 'POST', '/tenants', {
      seed: `embedded-${objects}`,
      policies: objects,
      client_secret: secret,
    })
    const env = { GRAPH_EMULATOR_URL: emulator.url }
    const tenantId = cliMs(
      process.cwd(),
      dataDir,
      [
        'tenant',
        'add',
        '--name',
        `Bench ${objects}`,
        '--entra-tenant-id',
        tenant.tenant_id,
        '--client-id',
        tenant.client_id,
        '--cloud',
        'emulator',
      ],
      { ...env, TENANTATLAS_CLIENT_SECRET: secret },
    )
      .out.trim()
      .split('\n')
      .at(-1)!
    let peak = { node: 0, cluster: 0, total: 0 }
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        const m = memoryMiB(serve.child.pid!, dataDir)
        if (m.total > peak.total) peak = m
        await sleep(200)
      }
    })()
    const started = performance.now()
    const sync = spawn(NODE, ['src/cli.ts', 'sync', 'inventory', '--tenant', tenantId, '--wait'], {
      env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    sync.stderr.on('data', (d: Buffer) => (err += d.toString()))
    await new Promise((resolve) => sync.once('exit', resolve))
    const wallS = Math.round((performance.now() - started) / 100) / 10
    sampling = false
    await sampler
    await stopServer(serve)
    return {
      objects,
      limits_scale: SCALE,
      wall_s: wallS,
      outcome: /Finished: (\w+)/.exec(err)?.[1] ?? 'unknown',
      peak_pss_mib: peak,
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true })
  }
}

export async function runEmbeddedBench() {
  const baselineDir = process.env.BENCH_EMBEDDED_BASELINE
  const results = [await idleFigures(process.cwd(), 'embedded PostgreSQL')]
  if (baselineDir) results.unshift(await idleFigures(path.resolve(baselineDir), 'PGlite (baseline)'))
  const emulator = await spawnEmulator()
  const syncs = []
  try {
    // The emulator's Intune limits raised like the client's budget: the figure is memory, not Graph's pace.
    await control(emulator, 'PUT', '/faults', { throttle_scale: SCALE })
    for (const objects of SYNC_SIZES) syncs.push(await syncPeak(emulator, objects))
  } finally {
    await stopEmulator(emulator)
  }
  return {
    idle_seconds: IDLE_SECONDS,
    memory: 'PSS (MiB) of the Node process + every process of the cluster',
    results,
    syncs,
  }
}

export function printEmbedded(
  r: Awaited<ReturnType<typeof runEmbeddedBench>>,
  table: (title: string, columns: string[], rows: [string, ...(string | number)[]][]) => void,
) {
  const x = r.results
  table(
    'Embedded default: `npm start` on a data directory (PSS MiB = Node + cluster)',
    x.map((e) => e.label),
    [
      ['start → /healthz, empty (ms)  ≤ 5,000', ...x.map((e) => e.startup_empty_ms)],
      ['start → /healthz, populated (ms)', ...x.map((e) => e.startup_populated_ms)],
      [
        'idle, empty (PSS MiB)  ≤ 300',
        ...x.map(
          (e) => `${e.idle_empty_pss_mib.total} (${e.idle_empty_pss_mib.node} + ${e.idle_empty_pss_mib.cluster})`,
        ),
      ],
      [
        'idle, populated (PSS MiB)  ≤ 300',
        ...x.map(
          (e) =>
            `${e.idle_populated_pss_mib.total} (${e.idle_populated_pss_mib.node} + ${e.idle_populated_pss_mib.cluster})`,
        ),
      ],
      ['CLI --help (ms)', ...x.map((e) => e.cli_help_ms)],
      ['CLI migrate beside serve (ms)  ≤ 1,500', ...x.map((e) => e.cli_migrate_beside_serve_ms)],
      ['CLI user create beside serve (ms)  ≤ 1,500', ...x.map((e) => e.cli_user_create_beside_serve_ms)],
      ['CLI migrate, no serve (ms)', ...x.map((e) => e.cli_migrate_alone_ms)],
    ],
  )
  table(
    `Embedded default: peak during an inventory sync (serve = web + worker; limits ×${r.syncs[0]?.limits_scale ?? '-'})  target ≤ 450 at 100,000`,
    ['wall s', 'outcome', 'peak PSS MiB'],
    r.syncs.map((s) => [
      `${s.objects.toLocaleString('en')} objects`,
      s.wall_s,
      s.outcome,
      `${s.peak_pss_mib.total} (${s.peak_pss_mib.node} + ${s.peak_pss_mib.cluster})`,
    ]),
  )
}
