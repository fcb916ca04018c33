import { randomUUID } from 'node:crypto'
import os from 'node:os'
import { sql } from 'drizzle-orm'
import { openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { DEFAULT_GRANTS } from '../src/emulator/control-routes.ts'
import { GraphClient } from '../src/graph/graph-client.ts'
import { createMsalTokenProvider } from '../src/graph/token-provider.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { whatReaches } from '../src/modules/assignments/what-reaches.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { APP_KEY, control, spawnEmulator, stopEmulator, withFreshPostgres } from './lib.ts'

/**
 * Assignment resolution (issue 27): a user in BENCH_ASSIGNMENT_DEPTH (50) nested groups (a chain: the
 * user is in the innermost), on a tenant of BENCH_ASSIGNMENT_OBJECTS (10,000) objects with two
 * assignments each (to one of 200 groups, All users or All devices); the emulator in its own process
 * over HTTP. p50 / p95 of whatReaches() over BENCH_SAMPLES (30) questions: the user's lookup, their
 * transitive groups and the assignments that reach them.
 */

const OBJECTS = Number(process.env.BENCH_ASSIGNMENT_OBJECTS ?? 10_000)
const DEPTH = Number(process.env.BENCH_ASSIGNMENT_DEPTH ?? 50)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 30)

const p = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 100) / 100
}

export async function runAssignmentsBench() {
  return withFreshPostgres(async (url) => {
    const handle = openPostgres(url, 4)
    const emulator = await spawnEmulator()
    const secrets = new SecretBox(Buffer.from(APP_KEY, 'base64'))
    try {
      await runMigrations(handle)
      const secret = `bench-${randomUUID()}`
      const permissions = [...DEFAULT_GRANTS, 'User.Read.All']
      const created = await control<{ tenant_id: string; client_id: string }>(emulator, 'POST', '/tenants', {
        seed: 'bench',
        policies: 0,
        client_id: randomUUID(),
        client_secret: secret,
        permissions,
      })
      const tenant = await addTenant(
        handle.db,
        secrets,
        { kind: 'system' },
        {
          name: 'Bench assignments',
          entra_tenant_id: created.tenant_id,
          client_id: created.client_id,
          client_secret: secret,
          cloud: 'emulator',
        },
      )
      const groups: string[] = []
      for (let i = 0; i < 200; i++) {
        const parent = i > 0 && i < DEPTH ? [groups[i - 1]!] : []
        const body = await control<{ id: string }>(emulator, 'POST', `/tenants/${created.tenant_id}/groups`, {
          name: `Group ${i}`,
          member_of: parent,
        })
        groups.push(body.id)
      }
      await control(emulator, 'POST', `/tenants/${created.tenant_id}/users`, {
        user_principal_name: 'bench@contoso.com',
        name: 'Bench user',
        password: 'x',
        groups: [groups[DEPTH - 1]],
      })
      const runId = uuidv7()
      const target = (n: string) =>
        sql.raw(`CASE WHEN ${n} % 20 = 0 THEN jsonb_build_object('@odata.type', '#microsoft.graph.allLicensedUsersAssignmentTarget')
        WHEN ${n} % 20 = 1 THEN jsonb_build_object('@odata.type', '#microsoft.graph.allDevicesAssignmentTarget')
        ELSE jsonb_build_object('@odata.type', CASE WHEN ${n} % 7 = 0 THEN '#microsoft.graph.exclusionGroupAssignmentTarget'
          ELSE '#microsoft.graph.groupAssignmentTarget' END, 'groupId', (g.ids)[1 + (${n} * 7919) % 200]) END`)
      await handle.db.execute(sql`
        INSERT INTO inventory_items (id, tenant_id, policy_type, external_id, display_name, category, platform, payload, assignments,
                                     content_hash, first_seen_run_id, last_seen_run_id)
        SELECT gen_random_uuid(), ${tenant.id}, (ARRAY['deviceConfiguration','mobileApp','deviceCompliancePolicy','settingsCatalogPolicy'])[1 + i % 4],
               'object-' || i, 'Object ' || i, 'Configuration', 'windows', '{}',
               jsonb_build_array(jsonb_build_object('target', ${target('i')}), jsonb_build_object('target', ${target('(i + 3)')})),
               'h' || i, ${runId}, ${runId}
          FROM generate_series(1, ${OBJECTS}) AS i, (SELECT ${`{${groups.join(',')}}`}::text[] AS ids) AS g`)
      await handle.db.execute(sql`VACUUM ANALYZE inventory_items`)
      const graph = new GraphClient({ tokens: createMsalTokenProvider() })
      const times: number[] = []
      let result: Awaited<ReturnType<typeof whatReaches>> | undefined
      for (let i = 0; i < SAMPLES + 3; i++) {
        const t0 = performance.now()
        result = await whatReaches(handle.db, graph, secrets, emulator.url, tenant.id, { user: 'bench@contoso.com' })
        if (i >= 3) times.push(performance.now() - t0)
      }
      return {
        objects: OBJECTS,
        depth: DEPTH,
        groups: result!.groups.length,
        assignments: result!.assignments.length,
        p50_ms: p(times, 0.5),
        p95_ms: p(times, 0.95),
        samples: SAMPLES,
        cpus: os.cpus().length,
        load_average_1m: Number(os.loadavg()[0]!.toFixed(1)),
      }
    } finally {
      await stopEmulator(emulator)
      await handle.close()
    }
  })
}

export function printAssignments(r: Awaited<ReturnType<typeof runAssignmentsBench>>) {
  console.log(
    `\nAssignment resolution: a user in ${r.depth} nested groups (${r.groups} found), ${r.objects} objects, ${r.assignments} assignments reach them`,
  )
  console.log(
    `  p50 ${r.p50_ms} ms, p95 ${r.p95_ms} ms (target ≤ 500 ms; ${r.cpus} CPUs, load average ${r.load_average_1m})`,
  )
}
