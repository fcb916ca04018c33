import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { openPostgres } from '../src/db/engine.ts'
import { runMigrations } from '../src/db/migrate.ts'
import { startEmulator } from '../src/emulator/server.ts'
import { buildApp } from '../src/http/app.ts'
import { startOperations } from '../src/jobs/runtime.ts'
import { loadConfig } from '../src/lib/config.ts'
import { SecretBox } from '../src/lib/crypto.ts'
import { createLogger } from '../src/lib/logger.ts'
import { authenticate } from '../src/modules/access/authenticate.ts'
import { createRoleRule } from '../src/modules/entra/role-rules.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { APP_KEY, withFreshPostgres } from './lib.ts'

/**
 * Sign-in with Microsoft (issue 28): the whole round trip against the emulator's OpenID provider
 * (our /api/auth/oidc/start → the emulator's authorize page, GET and the form's POST, over HTTP →
 * our callback: code redeemed with PKCE, id token checked, JIT/roles applied, session written),
 * BENCH_SAMPLES (50) times after one warm-up; and the per-request cost of validating a session
 * (`authenticate`: the prepared session lookup, the role-check due test) over 2,000 requests.
 */

const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 50)
const CLIENT_ID = randomUUID()
const SECRET = `bench-${randomUUID()}`

const p = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 1000) / 1000
}

export async function runSignInBench() {
  return withFreshPostgres(async (url) => {
    const handle = openPostgres(url, 4)
    const emulator = await startEmulator()
    const secrets = new SecretBox(Buffer.from(APP_KEY, 'base64'))
    const logger = createLogger('silent')
    try {
      await runMigrations(handle)
      const tenantId = randomUUID()
      const control = async (method: string, path: string, body?: unknown) => {
        const response = await fetch(`${emulator.url}/_emulator${path}`, {
          method,
          headers: { 'content-type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        })
        return (await response.json()) as { id: string }
      }
      await control('POST', '/tenants', {
        tenant_id: tenantId,
        client_id: CLIENT_ID,
        client_secret: SECRET,
        policies: 5,
      })
      const group = (await control('POST', `/tenants/${tenantId}/groups`, { name: 'TenantAtlas operators' })).id
      const upn = 'bench.user@contoso.example'
      await control('POST', `/tenants/${tenantId}/users`, {
        name: 'Bench User',
        user_principal_name: upn,
        groups: [group],
      })
      const tenant = await addTenant(
        handle.db,
        secrets,
        { kind: 'system' },
        {
          name: 'Bench tenant',
          entra_tenant_id: tenantId,
          client_id: CLIENT_ID,
          client_secret: SECRET,
          cloud: 'emulator',
        },
      )
      await createRoleRule(
        handle.db,
        { kind: 'system' },
        {
          claim: 'group',
          value: group,
          grants: { role: 'operator', tenant_ids: [tenant.id] },
        },
      )
      const config = loadConfig({
        DATA_DIR: '/nonexistent',
        LOG_LEVEL: 'silent',
        GRAPH_EMULATOR_URL: emulator.url,
        ENTRA_CLIENT_ID: CLIENT_ID,
        ENTRA_CLIENT_SECRET: SECRET,
        ENTRA_TENANT_ID: tenantId,
        ENTRA_CLOUD: 'emulator',
      })
      const operations = await startOperations({
        handle,
        logger,
        worker: false,
        shipped: { secrets, emulatorUrl: emulator.url },
      })
      const app = await buildApp({ handle, config, secrets, logger, engine: operations.engine, hub: operations.hub })

      const signIn = async () => {
        const start = await app.inject({ url: '/api/auth/oidc/start?return_to=/' })
        const flow = start.cookies.find((c) => c.name === 'ta_oidc')!.value
        const authorize = String(start.headers.location)
        const page = await fetch(authorize, { redirect: 'manual' })
        await page.text()
        const form = new URL(authorize).searchParams
        form.set('username', upn)
        form.set('password', '')
        const posted = await fetch(authorize.split('?')[0]!, { method: 'POST', body: form, redirect: 'manual' })
        await posted.text()
        const callback = new URL(posted.headers.get('location')!)
        const done = await app.inject({ url: `${callback.pathname}${callback.search}`, cookies: { ta_oidc: flow } })
        const session = done.cookies.find((c) => c.name === 'ta_session')?.value
        if (!session) throw new Error(`sign-in failed: ${String(done.headers.location)}`)
        return session
      }

      await signIn() // warm-up: discovery, the key set, prepared statements
      const roundTrips: number[] = []
      let session = ''
      for (let i = 0; i < SAMPLES; i++) {
        const t0 = performance.now()
        session = await signIn()
        roundTrips.push(performance.now() - t0)
      }

      const validations: number[] = []
      for (let i = 0; i < 2_000; i++) {
        const t0 = performance.now()
        const principal = await authenticate(handle.db, { session })
        validations.push(performance.now() - t0)
        if (!principal) throw new Error('session not valid')
      }

      await app.close()
      await operations.stop()
      return {
        samples: SAMPLES,
        sign_in_round_trip: { p50_ms: p(roundTrips, 0.5), p95_ms: p(roundTrips, 0.95) },
        session_validation: { requests: validations.length, p50_ms: p(validations, 0.5), p95_ms: p(validations, 0.95) },
      }
    } finally {
      await emulator.close()
      await handle.close()
    }
  })
}

export function printSignIn(result: Awaited<ReturnType<typeof runSignInBench>>) {
  console.log(`\nSign-in with Microsoft (emulator, ${result.samples} round trips)`)
  console.log(`  round trip p50 / p95 (ms): ${result.sign_in_round_trip.p50_ms} / ${result.sign_in_round_trip.p95_ms}`)
  console.log(
    `  session validation per request p50 / p95 (ms, ${result.session_validation.requests}): ${result.session_validation.p50_ms} / ${result.session_validation.p95_ms}`,
  )
}
