import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { GraphClient } from '../src/graph/graph-client.ts'
import { BudgetRegistry } from '../src/graph/throttle-budget.ts'
import { createMsalTokenProvider } from '../src/graph/token-provider.ts'
import { newTenant, readTenant } from './graph.ts'
import { control, spawnEmulator, stopEmulator, writeReport } from './lib.ts'

/**
 * `npm run bench -- compat --intunecd /path/to/IntuneCD`: a Graph client nobody here wrote,
 * IntuneCD's backup (github.com/almenscorner/IntuneCD, MIT), runs unmodified against a
 * standalone emulator tenant, then our Graph read runs against the same tenant.
 *
 * IntuneCD runs from its source (`<path>/src`) on Debian's python3 (python3-msal, -requests,
 * -deepdiff, -msrest, -yaml) in token mode (`--token`: no sign-in through IntuneCD). It has no
 * setting for its Graph host (`https://graph.microsoft.com` is written into its modules), so a
 * `sitecustomize.py` written to a temporary directory at run time rewrites that host, and the
 * login host, to the emulator in `requests.Session.request`: nothing else of IntuneCD changes.
 *
 * Checks: IntuneCD exits 0, prints no `[ERROR]` line, and its output holds every ground-truth
 * object of the types it backs up (`--append-id` puts each object's id in its file name; a
 * singleton is found by its folder).
 * Not run in CI (no source host, no Python registry there); not part of the default set.
 */

const OBJECTS = Number(process.env.BENCH_COMPAT_OBJECTS ?? 10_000)
const LATENCY_MS = Number(process.env.BENCH_COMPAT_LATENCY_MS ?? 50)
const PYTHON = process.env.BENCH_COMPAT_PYTHON ?? '/usr/bin/python3'

/** Catalog types IntuneCD has no backup module for. */
const NOT_IN_INTUNECD: Record<string, string> = {
  policySet: 'no policy set module',
  termsAndConditions: 'no terms and conditions module',
  group: 'groups are named inside assignments, not backed up',
  depOnboardingSetting: "backs up the tokens' enrollment profiles, not the tokens",
}

/**
 * Singletons IntuneCD backs up: it names their files without an id (or with Graph's own), so each
 * is found by its folder in IntuneCD's output.
 */
const SINGLETON_FOLDERS: Record<string, string> = {
  applePushNotificationCertificate: 'Apple Push Notification',
  androidManagedStoreAccountEnterpriseSettings: 'Managed Google Play',
  deviceManagementSettings: 'Device Management Settings',
}

const SHIM = `# Written by TenantAtlas bench/compat.ts at run time: sends IntuneCD's Graph and login hosts to the emulator.
import os
import requests

_HOSTS = {"https://graph.microsoft.com": os.environ["COMPAT_EMULATOR_URL"], "https://login.microsoftonline.com": os.environ["COMPAT_EMULATOR_URL"]}
_request = requests.Session.request


def _to_emulator(self, method, url, *args, **kwargs):
    if isinstance(url, str):
        for host, target in _HOSTS.items():
            if url.startswith(host):
                url = target + url[len(host):]
                break
    return _request(self, method, url, *args, **kwargs)


requests.Session.request = _to_emulator
`

type Truth = { type: string; id: string; display_name: string }

function filesUnder(dir: string): string[] {
  const out: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) out.push(...filesUnder(full))
    else out.push(full)
  }
  return out
}

function runIntuneCd(
  source: string,
  emulatorUrl: string,
  token: string,
  outDir: string,
): Promise<{ code: number | null; output: string; wallS: number }> {
  const shimDir = mkdtempSync(path.join(tmpdir(), 'compat-shim-'))
  writeFileSync(path.join(shimDir, 'sitecustomize.py'), SHIM)
  const started = performance.now()
  const child = spawn(
    PYTHON,
    [
      '-c',
      'from IntuneCD.run_backup import start; start()',
      '--mode',
      '1',
      '--token',
      token,
      '--path',
      outDir,
      '--output',
      'json',
      '--append-id',
      '--skip-archive',
    ],
    {
      env: {
        ...process.env,
        PYTHONPATH: [shimDir, path.join(source, 'src')].join(path.delimiter),
        COMPAT_EMULATOR_URL: emulatorUrl,
        PYTHONUNBUFFERED: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stdout.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr.on('data', (d: Buffer) => (output += d.toString()))
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      rmSync(shimDir, { recursive: true, force: true })
      resolve({ code, output, wallS: (performance.now() - started) / 1000 })
    })
  })
}

const round = (n: number) => Math.round(n * 100) / 100

export async function runCompatBench(args: string[]) {
  const at = args.indexOf('--intunecd')
  const source = at >= 0 ? args[at + 1] : process.env.BENCH_COMPAT_INTUNECD
  if (!source)
    throw new Error(
      'compat needs the path of an IntuneCD checkout: npm run bench -- compat --intunecd /path/to/IntuneCD',
    )
  const emulator = await spawnEmulator()
  const outDir = mkdtempSync(path.join(tmpdir(), 'compat-intunecd-'))
  try {
    const ctx = await newTenant(emulator, OBJECTS, 'compat')
    const truth = (await control<{ objects: Truth[] }>(emulator, 'GET', `/tenants/${ctx.entraTenantId}/inventory`))
      .objects
    const tokens = createMsalTokenProvider()
    const token = await tokens.getToken(ctx)
    await control(emulator, 'PUT', '/faults', { latency_ms: LATENCY_MS })

    await control(emulator, 'DELETE', '/stats')
    const theirs = await runIntuneCd(source, emulator.url, token, outDir)
    const theirStats = await control<{ graph_requests: number; throttled: number; by_status: Record<string, number> }>(
      emulator,
      'GET',
      '/stats',
    )
    // A fresh throttle window for our read.
    await control(emulator, 'DELETE', '/throttle')
    await control(emulator, 'DELETE', '/stats')
    const client = new GraphClient({ tokens, budgets: new BudgetRegistry() })
    const started = performance.now()
    const ours = await readTenant(client, ctx)
    const ourWallS = (performance.now() - started) / 1000
    const ourStats = await control<{ graph_requests: number; throttled: number; by_status: Record<string, number> }>(
      emulator,
      'GET',
      '/stats',
    )

    const files = filesUnder(outDir)
    const outputIds = new Set(
      files.map((f) => /__([^/]+)\.json$/.exec(f)?.[1]).filter((id): id is string => id !== undefined),
    )
    const folders = new Set(files.flatMap((f) => path.relative(outDir, f).split(path.sep).slice(0, -1)))
    const inOutput = (o: Truth) =>
      o.type in SINGLETON_FOLDERS ? folders.has(SINGLETON_FOLDERS[o.type]!) : outputIds.has(o.id)
    const byType = new Map<string, { truth: number; intunecd: number; missing: string[] }>()
    for (const o of truth) {
      const row = byType.get(o.type) ?? { truth: 0, intunecd: 0, missing: [] }
      row.truth++
      if (inOutput(o)) row.intunecd++
      else if (!(o.type in NOT_IN_INTUNECD)) row.missing.push(`${o.id} ${o.display_name}`)
      byType.set(o.type, row)
    }
    const lines = theirs.output.split('\n')
    const errors = lines.filter((l) => l.includes('[ERROR]'))
    // Not errors to IntuneCD, but places where the emulator answered what Graph would not.
    const refused = lines.filter(
      (l) => l.includes('Request failed with status') || l.includes('Resource not found in Microsoft Graph'),
    )
    const log = path.join(tmpdir(), `compat-intunecd-${Date.now()}.log`)
    writeFileSync(log, theirs.output)
    const missing = [...byType.values()].reduce((n, r) => n + r.missing.length, 0)
    const report = {
      objects: OBJECTS,
      latency_ms: LATENCY_MS,
      intunecd: {
        exit_code: theirs.code,
        error_lines: errors.length,
        refused_requests: refused.length,
        wall_s: round(theirs.wallS),
        graph_requests: theirStats.graph_requests,
        throttled_429: theirStats.throttled,
        emulator_statuses: theirStats.by_status,
        objects_in_output: outputIds.size,
      },
      ours: {
        objects_read: ours.objects,
        wall_s: round(ourWallS),
        graph_requests: client.counters.graphRequests,
        throttled_429: ourStats.throttled,
        emulator_statuses: ourStats.by_status,
      },
      ours_faster_by: round(theirs.wallS / ourWallS),
      missing_from_intunecd: missing,
      per_type: Object.fromEntries(
        [...byType].map(([type, r]) => [
          type,
          {
            ground_truth: r.truth,
            intunecd: r.intunecd,
            ours: ours.perType[type] ?? 0,
            covered_by_intunecd: !(type in NOT_IN_INTUNECD),
          },
        ]),
      ),
      // Ours ⊇ theirs: for every type, our read has at least what IntuneCD's output has.
      ours_covers_intunecd: [...byType].every(([type, r]) => (ours.perType[type] ?? 0) >= r.intunecd),
      passed: theirs.code === 0 && errors.length === 0 && missing === 0,
    }
    console.log(
      `\nIntuneCD backup vs our Graph read, ${OBJECTS}-object emulated tenant, ${LATENCY_MS} ms latency, Intune's default limits`,
    )
    console.log(`${'type'.padEnd(46)}${'truth'.padStart(8)}${'IntuneCD'.padStart(10)}${'ours'.padStart(8)}`)
    for (const [type, r] of Object.entries(report.per_type))
      console.log(
        `${type.padEnd(46)}${String(r.ground_truth).padStart(8)}${String(r.intunecd).padStart(10)}${String(r.ours).padStart(8)}${r.covered_by_intunecd ? '' : `   (${NOT_IN_INTUNECD[type]})`}`,
      )
    console.log(
      `IntuneCD: exit ${theirs.code}, ${errors.length} [ERROR] lines, ${refused.length} requests refused (4xx), ${report.intunecd.wall_s} s, ${theirStats.graph_requests} Graph requests, ${theirStats.throttled} 429s`,
    )
    console.log(`          emulator answers by status: ${JSON.stringify(theirStats.by_status)}`)
    console.log(`ours ⊇ IntuneCD for every type: ${report.ours_covers_intunecd}`)
    console.log(
      `ours:     ${ours.objects} objects, ${report.ours.wall_s} s, ${client.counters.graphRequests} Graph requests, ${ourStats.throttled} 429s (${report.ours_faster_by}× faster)`,
    )
    for (const line of [...errors, ...refused].slice(0, 20)) console.log(`  ${line.slice(0, 300)}`)
    for (const r of [...byType.values()].flatMap((r) => r.missing).slice(0, 20))
      console.log(`  missing from IntuneCD's output: ${r}`)
    console.log(report.passed ? 'compatibility run: PASSED' : 'compatibility run: FAILED')
    console.log(`IntuneCD's output: ${log}`)
    if (!report.passed) process.exitCode = 1
    return report
  } finally {
    rmSync(outDir, { recursive: true, force: true })
    await stopEmulator(emulator)
  }
}

if (import.meta.main) console.log(`report: ${writeReport('compat', await runCompatBench(process.argv.slice(2)))}`)
