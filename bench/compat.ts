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
 *
 * Then the update pass (issue 23): IntuneCD's write mode (`run_update --update-assignments`,
 * unmodified, the same shim) from that backup into a second tenant of the same seed, where a
 * few objects of every type it backs up were deleted. Reported, not judged here: its `[ERROR]`
 * lines, every non-2xx answer with its request (the shim logs them to a JSON-lines file), which
 * deleted objects came back, whether each equals the ground truth (server-set properties aside)
 * and has the same assignments (groups and filters compared by name). docs/benchmarks.md names,
 * for each remaining difference, whose it is.
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

const SHIM = `# Written by TenantAtlas bench/compat.ts at run time: sends IntuneCD's Graph and login hosts to the emulator
# (and, when COMPAT_REQUEST_LOG names a file, logs every write and every non-2xx answer there).
import json
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
    response = _request(self, method, url, *args, **kwargs)
    log = os.environ.get("COMPAT_REQUEST_LOG")
    if log and method.upper() != "GET" or log and response.status_code >= 400:
        body = kwargs.get("data")
        with open(log, "a") as f:
            f.write(json.dumps({"method": method.upper(), "url": url, "status": response.status_code, "request": (body or "")[:300] if isinstance(body, str) else None, "response": response.text[:300]}) + "\\n")
    return response


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

/** IntuneCD's backup (`run_backup`) or update (`run_update`) with its own command-line arguments. */
function runIntuneCd(
  source: string,
  emulatorUrl: string,
  command: 'run_backup' | 'run_update',
  args: string[],
  requestLog?: string,
): Promise<{ code: number | null; output: string; wallS: number }> {
  const shimDir = mkdtempSync(path.join(tmpdir(), 'compat-shim-'))
  writeFileSync(path.join(shimDir, 'sitecustomize.py'), SHIM)
  const started = performance.now()
  const child = spawn(PYTHON, ['-c', `from IntuneCD.${command} import start; start()`, ...args], {
    env: {
      ...process.env,
      PYTHONPATH: [shimDir, path.join(source, 'src')].join(path.delimiter),
      COMPAT_EMULATOR_URL: emulatorUrl,
      ...(requestLog ? { COMPAT_REQUEST_LOG: requestLog } : {}),
      PYTHONUNBUFFERED: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
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

/**
 * Types the update pass does not delete. Scope tags: IntuneCD reads the tenant's scope tags once,
 * before its ScopeTags module re-creates the missing ones (update_intune.py), so every object
 * tagged with a re-created tag loses that tag (its own ordering, seen in the first run).
 */
const NOT_DELETED: Record<string, string> = {
  roleScopeTag: 'IntuneCD maps scope tag names to ids before re-creating deleted tags',
}

/** Objects deleted per type in the second tenant before IntuneCD's update re-creates them. */
const DELETE_PER_TYPE = Number(process.env.BENCH_COMPAT_DELETE_PER_TYPE ?? 3)

type Content = Record<string, unknown>
type TruthWithContent = Truth & { content: Content }

/** Properties a create gives a new value (Graph sets them), so a re-created object differs there. */
const SERVER_SET = new Set([
  'id',
  'createdDateTime',
  'lastModifiedDateTime',
  'modifiedDateTime',
  'version',
  'creationSource',
  'assignments',
])

/**
 * Paths where two JSON values differ (`a.b[2].c`): server-set properties left out at the top,
 * ids and modification times below it (a child's id is its new parent's).
 */
function differences(a: unknown, b: unknown, at = ''): string[] {
  if (a === b) return []
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return [`${at} (${a.length} items, now ${b.length})`]
    return a.flatMap((item, i) => differences(item, b[i], `${at}[${i}]`))
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)])
    return [...keys]
      .filter((k) => !(at === '' ? SERVER_SET.has(k) : k === 'id' || k === 'lastModifiedDateTime'))
      .flatMap((k) => differences((a as Content)[k], (b as Content)[k], at ? `${at}.${k}` : k))
  }
  return [at || '(value)']
}

/** An assignment as a name-level fact: target type, group and filter by name, intent. */
function assignmentKey(a: Content, names: Map<string, string>): string {
  const target = (a.target ?? {}) as Content
  const groupId = target.groupId as string | undefined
  const filterId = target.deviceAndAppManagementAssignmentFilterId as string | null | undefined
  return JSON.stringify([
    target['@odata.type'],
    groupId === undefined ? null : (names.get(groupId) ?? `missing group ${groupId}`),
    filterId ? (names.get(filterId) ?? `missing filter ${filterId}`) : null,
    target.deviceAndAppManagementAssignmentFilterType ?? 'none',
    a.intent ?? null,
  ])
}

/**
 * The update pass (issue 23 item 6): a second tenant of the same seed (same objects, same groups),
 * a few objects of every type IntuneCD backs up deleted there, then IntuneCD's update
 * (`run_update`, unmodified, `--update-assignments`) from the first tenant's backup. It must
 * re-create each deleted object with the ground truth's content and assignments (groups found by
 * name through `$filter`), and leave the others alone.
 */
async function runUpdatePass(
  emulator: Awaited<ReturnType<typeof spawnEmulator>>,
  source: string,
  backupDir: string,
  backedUp: Set<string>,
) {
  const ctx = await newTenant(emulator, OBJECTS, 'compat-update')
  const inventory = async () =>
    (
      await control<{ objects: TruthWithContent[] }>(
        emulator,
        'GET',
        `/tenants/${ctx.entraTenantId}/inventory?include=content`,
      )
    ).objects
  const before = await inventory()
  // Groups and filters by id → name: a re-created object's references are right when they name the same ones.
  const names = new Map(
    before.filter((o) => o.type === 'group' || o.type === 'assignmentFilter').map((o) => [o.id, o.display_name]),
  )
  // Victims: per type IntuneCD backs up, objects whose name is unique in their type (IntuneCD
  // matches by name) and that are in its backup; those with group assignments first.
  const victims: TruthWithContent[] = []
  const byType = new Map<string, TruthWithContent[]>()
  for (const o of before) byType.set(o.type, [...(byType.get(o.type) ?? []), o])
  for (const [type, objects] of byType) {
    if (type in NOT_IN_INTUNECD || type in SINGLETON_FOLDERS || type in NOT_DELETED) continue
    const names = new Map<string, number>()
    for (const o of objects) names.set(o.display_name, (names.get(o.display_name) ?? 0) + 1)
    const assignedToGroups = (o: TruthWithContent) =>
      ((o.content.assignments ?? []) as Content[]).some((a) => names.has((a.target as Content)?.groupId as string))
    const candidates = objects
      .filter((o) => names.get(o.display_name) === 1 && backedUp.has(o.id))
      .sort((a, b) => Number(assignedToGroups(b)) - Number(assignedToGroups(a)))
    victims.push(...candidates.slice(0, DELETE_PER_TYPE))
  }
  for (const v of victims) await control(emulator, 'DELETE', `/tenants/${ctx.entraTenantId}/items/${v.id}`)

  const token = await createMsalTokenProvider().getToken(ctx)
  await control(emulator, 'DELETE', '/throttle')
  await control(emulator, 'DELETE', '/stats')
  const requestLog = path.join(tmpdir(), `compat-intunecd-update-requests-${Date.now()}.jsonl`)
  const run = await runIntuneCd(
    source,
    emulator.url,
    'run_update',
    ['--mode', '1', '--token', token, '--path', backupDir, '--update-assignments'],
    requestLog,
  )
  const stats = await control<{ graph_requests: number; by_status: Record<string, number> }>(emulator, 'GET', '/stats')
  const after = await inventory()
  for (const o of after) if (o.type === 'group' || o.type === 'assignmentFilter') names.set(o.id, o.display_name)
  const beforeIds = new Set(before.map((o) => o.id))
  const afterIds = new Set(after.map((o) => o.id))
  const created = after.filter((o) => !beforeIds.has(o.id))
  const rows = victims.map((v) => {
    const twins = created.filter((o) => o.type === v.type && o.display_name === v.display_name)
    const twin = twins[0]
    if (!twin) return { type: v.type, name: v.display_name, recreated: false as const }
    const assignmentsOf = (o: TruthWithContent) =>
      ((o.content.assignments ?? []) as Content[]).map((a) => assignmentKey(a, names)).sort()
    // Assignments to a group the tenant no longer has cannot be re-created by name.
    const expected = assignmentsOf(v).filter((k) => !k.includes('missing group'))
    const got = assignmentsOf(twin)
    return {
      type: v.type,
      name: v.display_name,
      recreated: true as const,
      copies: twins.length,
      content_differences: differences(v.content, twin.content),
      has_group_assignments: expected.some((k) => (JSON.parse(k) as unknown[])[1] !== null),
      assignments_right: JSON.stringify(expected) === JSON.stringify(got),
      assignments_expected: expected,
      assignments_got: got,
    }
  })
  const lines = run.output.split('\n')
  const errors = lines.filter((l) => l.includes('[ERROR]'))
  const refused = lines.filter((l) => l.includes('Request failed with status'))
  const log = path.join(tmpdir(), `compat-intunecd-update-${Date.now()}.log`)
  writeFileSync(log, run.output)
  const recreated = rows.filter((r) => r.recreated)
  const withGroups = recreated.filter((r) => r.has_group_assignments)
  return {
    exit_code: run.code,
    wall_s: round(run.wallS),
    graph_requests: stats.graph_requests,
    emulator_statuses: stats.by_status,
    error_lines: errors.length,
    refused_requests: refused.length,
    deleted: victims.length,
    recreated: recreated.length,
    recreated_with_equal_content: recreated.filter((r) => r.content_differences.length === 0).length,
    recreated_with_group_assignments: withGroups.length,
    group_assignments_right: withGroups.filter((r) => r.assignments_right).length,
    assignments_right: recreated.filter((r) => r.assignments_right).length,
    // Objects not deleted that IntuneCD's run changed or removed (it should leave them alone).
    others_removed: before.filter((o) => !afterIds.has(o.id) && !victims.includes(o)).length,
    created_beyond_deleted: created.length - recreated.length,
    errors: errors.map((l) => l.slice(0, 400)),
    refusals: refused.map((l) => l.slice(0, 600)),
    rows,
    log,
    request_log: requestLog,
  }
}

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
    const theirs = await runIntuneCd(source, emulator.url, 'run_backup', [
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
    ])
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
    const update = await runUpdatePass(emulator, source, outDir, outputIds)
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
      update,
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
    console.log(
      `\nIntuneCD update (run_update --update-assignments) from that backup into a second tenant of the same seed, ${update.deleted} objects deleted there`,
    )
    console.log(
      `update: exit ${update.exit_code}, ${update.error_lines} [ERROR] lines, ${update.refused_requests} requests refused, ${update.wall_s} s, ${update.graph_requests} Graph requests`,
    )
    console.log(`        emulator answers by status: ${JSON.stringify(update.emulator_statuses)}`)
    console.log(
      `        re-created ${update.recreated}/${update.deleted}, content equal ${update.recreated_with_equal_content}, assignments right ${update.assignments_right} (with groups: ${update.group_assignments_right}/${update.recreated_with_group_assignments}), other objects removed ${update.others_removed}, extra objects ${update.created_beyond_deleted}`,
    )
    for (const r of update.rows)
      if (!r.recreated) console.log(`  not re-created: ${r.type} ${r.name}`)
      else if (r.content_differences.length > 0 || !r.assignments_right)
        console.log(
          `  ${r.type} ${r.name}: ${r.content_differences.slice(0, 8).join(', ')}${r.assignments_right ? '' : ` assignments ${JSON.stringify(r.assignments_expected)} → ${JSON.stringify(r.assignments_got)}`}`.slice(
            0,
            600,
          ),
        )
    for (const line of [...update.errors, ...update.refusals].slice(0, 40)) console.log(`  ${line.slice(0, 400)}`)
    console.log(`IntuneCD's update output: ${update.log}`)
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
