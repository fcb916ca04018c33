import { existsSync, readFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { UUID_PATTERN } from '../src/lib/ids.ts'
import { cli, lastLine, startServer, withScratchDatabase } from './processes.ts'

describe('CLI beside a running server on the embedded engine', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-cli-'))
  const env = { DATA_DIR: dataDir }
  let server: Awaited<ReturnType<typeof startServer>>

  beforeAll(async () => {
    server = await startServer(dataDir)
  })
  afterAll(() => {
    if (server.child.exitCode === null) server.child.kill('SIGKILL')
  })

  it('printed the URL and a first admin sign-in on the empty data directory', async () => {
    const match = /sign in as (\S+) with password (\S+)/.exec(server.output())
    expect(match).not.toBeNull()
    const response = await fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: match![1], password: match![2] }),
    })
    expect(response.status).toBe(200)
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200)
  })

  it('creates a break-glass admin (user create --break-glass), who signs in with the password', async () => {
    const email = `glass-${randomUUID().slice(0, 8)}@example.com`
    const created = await cli(
      ['user', 'create', '--email', email, '--name', 'Break Glass', '--admin', '--break-glass'],
      {
        env: { ...env, TENANTATLAS_PASSWORD: 'a-strong-password' },
      },
    )
    expect(created, created.stderr).toMatchObject({ code: 0 })
    expect(created.stderr).toContain('Created break-glass workspace admin')
    const response = await fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'a-strong-password' }),
    })
    expect(response.status).toBe(200)
  })

  it('creates a user, a tenant, a membership and a token while the server runs, and the server sees them', async () => {
    const email = `ops-${randomUUID().slice(0, 8)}@example.com`
    const user = await cli(['user', 'create', '--email', email, '--name', 'Ops Person'], {
      env: { ...env, TENANTATLAS_PASSWORD: 'a-strong-password' },
    })
    expect(user, user.stderr).toMatchObject({ code: 0 })
    expect(lastLine(user.stdout)).toMatch(UUID_PATTERN)

    // The client secret arrives on stdin.
    const tenant = await cli(
      [
        'tenant',
        'add',
        '--name',
        'Contoso',
        '--entra-tenant-id',
        randomUUID(),
        '--client-id',
        randomUUID(),
        '--cloud',
        'emulator',
      ],
      {
        env,
        input: 'the-client-secret\n',
      },
    )
    expect(tenant, tenant.stderr).toMatchObject({ code: 0 })
    const tenantId = lastLine(tenant.stdout)
    expect(tenantId).toMatch(UUID_PATTERN)

    const member = await cli(['member', 'add', '--tenant', tenantId, '--email', email, '--role', 'operator'], { env })
    expect(member, member.stderr).toMatchObject({ code: 0 })
    // Re-running changes the role instead of failing.
    expect(
      (await cli(['member', 'add', '--tenant', tenantId, '--email', email, '--role', 'manager'], { env })).code,
    ).toBe(0)
    // What reaches a group: nothing is synced, and this CLI has no emulator to read memberships from, which it says.
    const group = randomUUID()
    const reach = await cli(['assignments', '--tenant', tenantId, '--group', group, '--json'], { env })
    expect(reach, reach.stderr).toMatchObject({ code: 0 })
    expect(JSON.parse(reach.stdout)).toMatchObject({
      subject: { kind: 'group', id: group },
      assignments: [],
      warnings: [{ code: 'emulator_not_configured' }],
    })

    // Compare: the tenant (empty, never synced) with itself, as CSV on stdout and as the summary with its id.
    const compared = await cli(['compare', '--left', `tenant:${tenantId}`, '--right', `tenant:${tenantId}`], { env })
    expect(compared, compared.stderr).toMatchObject({ code: 0 })
    expect(lastLine(compared.stdout)).toMatch(UUID_PATTERN)
    expect(compared.stderr).toContain('only left 0, only right 0, different 0, same 0')
    const csv = await cli(
      ['compare', '--left', `tenant:${tenantId}`, '--right', `tenant:${tenantId}`, '--format', 'csv'],
      {
        env,
      },
    )
    expect(csv.stdout.split('\r\n')[0]).toBe(
      'status,policy_type,left_name,left_id,right_name,right_id,setting,change,left_value,right_value',
    )
    const missing = await cli(['compare', '--left', `backup:${randomUUID()}`, '--right', `tenant:${tenantId}`], { env })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/Backup set not found/)

    // Drift: no baseline yet; a baseline of objects the tenant does not have is refused naming the field.
    const evaluated = await cli(['drift', 'evaluate', '--tenant', tenantId], { env })
    expect(evaluated, evaluated.stderr).toMatchObject({ code: 0 })
    expect(evaluated.stderr).toContain('No enabled baseline')
    const golden = await cli(
      ['baseline', 'create', '--name', 'Golden', '--tenant', tenantId, '--items', randomUUID()],
      {
        env,
      },
    )
    expect(golden.code).toBe(1)
    expect(golden.stderr).toMatch(/item-ids: not present in the tenant's inventory/)
    const listed = await cli(['findings', 'list', '--tenant', tenantId, '--state', 'open'], { env })
    expect(listed, listed.stderr).toMatchObject({ code: 0, stdout: '' })

    const token = await cli(['token', 'create', '--email', email, '--name', 'script'], { env })
    expect(token, token.stderr).toMatchObject({ code: 0 })
    const secret = lastLine(token.stdout)
    expect(secret).toMatch(/^ta_pat_/)

    const me = await fetch(`${server.url}/api/me`, { headers: { authorization: `Bearer ${secret}` } })
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({
      user: { email },
      tenants: [{ id: tenantId, name: 'Contoso', role: 'manager' }],
    })

    const signIn = await fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'a-strong-password' }),
    })
    expect(signIn.status).toBe(200)
  })

  it('created the demo tenant with the admin as owner, and syncs it from the CLI: --wait follows it to its partial success', async () => {
    expect(server.output()).toMatch(/Demo tenant: Contoso \(demo\)/)
    const match = /sign in as (\S+) with password (\S+)/.exec(server.output())!
    const signIn = await fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: match[1], password: match[2] }),
    })
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!
    const me = (await (await fetch(`${server.url}/api/me`, { headers: { cookie } })).json()) as {
      tenants: { id: string; name: string; role: string }[]
    }
    const demo = me.tenants.find((t) => t.name === 'Contoso (demo)')!
    expect(demo.role).toBe('owner')

    const sync = await cli(['sync', 'inventory', '--tenant', demo.id, '--wait'], { env })
    // One permission is missing on purpose: the run ends partially_succeeded, so --wait exits non-zero.
    expect(sync.code, sync.stderr).toBe(1)
    expect(sync.stderr).toMatch(/Finished: partially_succeeded/)
    expect(sync.stderr).toMatch(/missing_permission \(deviceManagementScript\): .*DeviceManagementScripts\.Read\.All/)
    const runId = lastLine(sync.stdout)
    const run = (await (
      await fetch(`${server.url}/api/tenants/${demo.id}/operation-runs/${runId}`, { headers: { cookie } })
    ).json()) as { initiator: unknown; outcome: string; summary_counts: { created: number } }
    expect(run).toMatchObject({ initiator: null, outcome: 'partially_succeeded' })
    expect(run.summary_counts.created).toBeGreaterThan(200)
    const items = (await (
      await fetch(`${server.url}/api/tenants/${demo.id}/inventory/items?limit=200`, { headers: { cookie } })
    ).json()) as { data: unknown[]; next_cursor: string | null }
    expect(items.data).toHaveLength(200)
    expect(items.next_cursor).not.toBeNull()

    // The readable diff of an item's first version: everything added, one line per change.
    const first = (items.data as { id: string; display_name: string }[])[0]!
    const diff = await cli(['diff', '--item', first.id], { env })
    expect(diff, diff.stderr).toMatchObject({ code: 0 })
    expect(diff.stderr).toContain(`${first.display_name} (`)
    expect(diff.stdout).toContain(first.display_name)
    expect(
      diff.stdout
        .trim()
        .split('\n')
        .every((line) => line.startsWith('+ ')),
    ).toBe(true)
    expect((await cli(['diff', '--item', first.id, '--from', '0'], { env })).stderr).toMatch(
      /^error: --from must be a version number/,
    )
    expect((await cli(['diff', '--item', randomUUID()], { env })).stderr).toMatch(/^error: item \S+ not found\n$/)

    // Without --wait: queued, its id on the last line, exit 0.
    const queued = await cli(['sync', 'inventory', '--tenant', demo.id], { env })
    expect(queued, queued.stderr).toMatchObject({ code: 0 })
    expect(lastLine(queued.stdout)).toMatch(UUID_PATTERN)
    const unknown = await cli(['sync', 'inventory', '--tenant', randomUUID()], { env })
    expect(unknown.code).not.toBe(0)
    expect(unknown.stderr).toMatch(/^error: tenant \S+ not found\n$/)
  })

  it('backs up the demo tenant from the CLI (--wait: partial, one type not permitted), exports it to a ZIP and imports it back', async () => {
    const match = /sign in as (\S+) with password (\S+)/.exec(server.output())!
    const signIn = await fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: match[1], password: match[2] }),
    })
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!
    const me = (await (await fetch(`${server.url}/api/me`, { headers: { cookie } })).json()) as {
      tenants: { id: string; name: string }[]
    }
    const demo = me.tenants.find((t) => t.name === 'Contoso (demo)')!
    const created = await cli(['backup', 'create', '--tenant', demo.id, '--name', 'From the CLI', '--wait'], { env })
    expect(created.code, created.stderr).toBe(1)
    expect(created.stderr).toMatch(/Finished: partially_succeeded/)
    const list = (await (
      await fetch(`${server.url}/api/tenants/${demo.id}/backups`, { headers: { cookie } })
    ).json()) as { data: { id: string; name: string; status: string; item_count: number; run_id: string }[] }
    const set = list.data.find((b) => b.run_id === lastLine(created.stdout))!
    expect(set).toMatchObject({ name: 'From the CLI', status: 'partial' })
    expect(set.item_count).toBeGreaterThan(200)
    const file = path.join(dataDir, 'backup.zip')
    const exported = await cli(['backup', 'export', '--backup', set.id, '--out', file], { env })
    expect(exported.code, exported.stderr).toBe(0)
    expect(readFileSync(file).subarray(0, 2).toString('latin1')).toBe('PK')
    const imported = await cli(['backup', 'import', '--tenant', demo.id, '--file', file], { env })
    expect(imported.code, imported.stderr).toBe(0)
    const copy = (await (
      await fetch(`${server.url}/api/tenants/${demo.id}/backups/${lastLine(imported.stdout)}`, { headers: { cookie } })
    ).json()) as { origin: string; item_count: number; name: string }
    expect(copy).toMatchObject({ origin: 'imported', item_count: set.item_count, name: 'From the CLI' })
    const bad = await cli(['backup', 'import', '--tenant', demo.id, '--file', path.join(dataDir, 'nope.zip')], { env })
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/^error: cannot read \S+nope\.zip\n$/)
  })

  it('exports documentation from the CLI as a docs.export run: follows it, writes the file, names bad input', async () => {
    const match = /sign in as (\S+) with password (\S+)/.exec(server.output())!
    const signIn = await fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: match[1], password: match[2] }),
    })
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!
    const me = (await (await fetch(`${server.url}/api/me`, { headers: { cookie } })).json()) as {
      tenants: { id: string; name: string }[]
    }
    const demo = me.tenants.find((t) => t.name === 'Contoso (demo)')!
    const html = path.join(dataDir, 'docs.html')
    const done = await cli(['docs', 'export', '--tenant', demo.id, '--format', 'html', '--out', html], { env })
    expect(done.code, done.stderr).toBe(0)
    expect(done.stderr).toMatch(/Documentation export queued: run /)
    expect(done.stderr).toMatch(/Finished: succeeded/)
    expect(done.stderr).toMatch(/Wrote .+\.html \(\d+ bytes\) to /)
    const runId = lastLine(done.stdout)
    expect(runId).toMatch(UUID_PATTERN)
    // The file is the one the console downloads for that run.
    const download = await fetch(`${server.url}/api/tenants/${demo.id}/documentation/${runId}/download`, {
      headers: { cookie },
    })
    expect(Buffer.from(await download.arrayBuffer()).equals(readFileSync(html))).toBe(true)
    expect(readFileSync(html, 'utf8')).toContain('Contoso (demo)')
    const zip = path.join(dataDir, 'docs.zip')
    const markdown = await cli(['docs', 'export', '--tenant', demo.id, '--without-assignments', '--out', zip], { env })
    expect(markdown.code, markdown.stderr).toBe(0)
    expect(readFileSync(zip).subarray(0, 2).toString('latin1')).toBe('PK')
    const both = await cli(
      ['docs', 'export', '--tenant', demo.id, '--at', '2026-01-01T00:00:00Z', '--backup', runId, '--out', zip],
      { env },
    )
    expect(both.code).toBe(2)
    expect(both.stderr).toBe('error: name at most one of --at, --backup or --baseline\n')
    const format = await cli(['docs', 'export', '--tenant', demo.id, '--format', 'pdf', '--out', zip], { env })
    expect(format.code).toBe(1)
    expect(format.stderr).toMatch(/^error: .*format.*must be markdown or html/)
    const missing = await cli(['docs', 'export', '--tenant', demo.id, '--backup', randomUUID(), '--out', zip], { env })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/^error: .*not found/i)
  })

  it('bulk from the CLI: a dry run prints the plan, a run renames exactly the items named, bad flags are one-line errors', async () => {
    const match = /sign in as (\S+) with password (\S+)/.exec(server.output())!
    const signIn = await fetch(`${server.url}/api/auth/sign-in`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: match[1], password: match[2] }),
    })
    const cookie = signIn.headers.get('set-cookie')!.split(';')[0]!
    const me = (await (await fetch(`${server.url}/api/me`, { headers: { cookie } })).json()) as {
      tenants: { id: string; name: string }[]
    }
    const demo = me.tenants.find((t) => t.name === 'Contoso (demo)')!
    const items = async () =>
      (
        (await (
          await fetch(`${server.url}/api/tenants/${demo.id}/inventory/items?type=deviceCompliancePolicy&limit=200`, {
            headers: { cookie },
          })
        ).json()) as { data: { id: string; display_name: string }[] }
      ).data
    const before = await items()
    const dry = await cli(
      [
        'bulk',
        'rename',
        '--tenant',
        demo.id,
        '--filter',
        'type=deviceCompliancePolicy',
        '--prefix',
        'CLI ',
        '--dry-run',
      ],
      { env },
    )
    expect(dry.code, dry.stderr).toBe(0)
    expect(dry.stdout.trim().split('\n')).toHaveLength(before.length)
    expect(dry.stdout).toContain(
      `change  ${before[0]!.id}  ${before[0]!.display_name} (deviceCompliancePolicy): Renamed to "CLI ${before[0]!.display_name}"`,
    )
    expect(dry.stderr).toContain(
      `${before.length} items: ${before.length} to change, 0 skipped (dry run: nothing changed)`,
    )
    expect(await items()).toEqual(before)
    const picked = before.slice(0, 2)
    const run = await cli(
      [
        'bulk',
        'rename',
        '--tenant',
        demo.id,
        '--items',
        picked.map((p) => p.id).join(','),
        '--prefix',
        'CLI ',
        '--wait',
      ],
      { env },
    )
    // The demo app may read everything but write nothing: --wait follows the run to its end and says how it ended.
    expect(run.stderr).toMatch(/Finished: (succeeded|failed)/)
    const runId = lastLine(run.stdout)
    expect(runId).toMatch(UUID_PATTERN)
    const results = (
      (await (
        await fetch(`${server.url}/api/tenants/${demo.id}/operation-runs/${runId}/items`, { headers: { cookie } })
      ).json()) as { data: { target: { name: string }; action: string; status: string; code: string | null }[] }
    ).data
    expect(results.map((r) => r.target.name).sort()).toEqual(picked.map((p) => p.display_name).sort())
    expect(
      results.every((r) => r.action === 'rename' && (r.status === 'succeeded' || r.code === 'missing_permission')),
    ).toBe(true)
    const unconfirmed = await cli(['bulk', 'delete', '--tenant', demo.id, '--items', picked[0]!.id], { env })
    expect(unconfirmed.code).not.toBe(0)
    expect(unconfirmed.stderr).toBe('error: --confirm-count is required\n')
    const wrong = await cli(['bulk', 'delete', '--tenant', demo.id, '--items', picked[0]!.id, '--confirm-count', '3'], {
      env,
    })
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1)
    expect(wrong.stderr).toMatch(/--confirm-count: must equal the number of items to delete \(1\)/)
  })

  it('refuses a second server on the same data directory with a clear error', async () => {
    const second = await cli(['serve', '--port', '0'], { env })
    expect(second.code).not.toBe(0)
    expect(second.stderr.trim().split('\n')).toHaveLength(1)
    expect(second.stderr).toMatch(
      new RegExp(`another \`tenantatlas serve\` \\(process ${server.child.pid}\\) is running on ${dataDir}`),
    )
  })

  it('shuts down gracefully on SIGTERM and stops the cluster', async () => {
    const exited = new Promise<number | null>((resolve) => server.child.once('exit', resolve))
    server.child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(existsSync(path.join(dataDir, 'pgdata', 'postmaster.pid'))).toBe(false)
    // Now a command starts the cluster for itself, and stops it after.
    const user = await cli(['user', 'create', '--email', 'after@example.com', '--name', 'After'], {
      env: { ...env, TENANTATLAS_PASSWORD: 'another-password' },
    })
    expect(user, user.stderr).toMatchObject({ code: 0 })
    expect(existsSync(path.join(dataDir, 'pgdata', 'postmaster.pid'))).toBe(false)
  })
})

describe('CLI input errors', () => {
  const env = { DATA_DIR: mkdtempSync(path.join(tmpdir(), 'ta-cli-bad-')) }

  it.each([
    [['user', 'create', '--name', 'X'], /--email is required/],
    [['user', 'create', '--email', 'x@example.com', '--name', 'X', '--password', 'pw'], /Unknown option '--password'/],
    [['tenant', 'add', '--name', 'X', '--client-id', randomUUID()], /--entra-tenant-id is required/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['serve', '--port', 'eighty'], /--port must be a port number/],
    [['assignments', '--tenant', randomUUID()], /name exactly one of --group, --user or --device/],
    [['baseline', 'create', '--name', 'X'], /name exactly one of --tenant or --backup/],
    [['findings', 'list', '--tenant', randomUUID(), '--state', 'nope'], /--state must be one of/],
    [['compare', '--left', 'tenant:x'], /--right is required/],
    [['compare', '--left', 'nonsense', '--right', 'tenant:x'], /--left must be tenant:ID/],
    [['compare', '--left', `backup:${randomUUID()}@2026-01-01`, '--right', 'tenant:x'], /--left must be tenant:ID/],
  ])('%j → one-line error, exit 2', async (args, message) => {
    const result = await cli(args, { env })
    expect(result.code).toBe(2)
    expect(result.stderr).toMatch(message)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('names the flag whose value is wrong', async () => {
    const result = await cli(['user', 'create', '--email', 'not-an-email', '--name', 'X'], {
      env: { ...env, TENANTATLAS_PASSWORD: 'long-enough-password' },
    })
    expect(result.code).toBe(1)
    expect(result.stderr.trim()).toBe('error: --email: must be an e-mail address')
  })

  it('names the GUID that is malformed and the cloud that does not exist', async () => {
    const result = await cli(
      [
        'tenant',
        'add',
        '--name',
        'X',
        '--entra-tenant-id',
        'contoso.onmicrosoft.com',
        '--client-id',
        randomUUID(),
        '--cloud',
        'mars',
      ],
      {
        env: { ...env, TENANTATLAS_CLIENT_SECRET: 'secret-value' },
      },
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/--entra-tenant-id: must be the Entra tenant id as a GUID/)
    expect(result.stderr).toMatch(/--cloud: must be one of/)
    expect(result.stderr).not.toContain('secret-value')
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('refuses an empty password', async () => {
    const result = await cli(['user', 'create', '--email', 'x@example.com', '--name', 'X'], { env, input: '' })
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/set TENANTATLAS_PASSWORD or pass it on stdin/)
  })

  it('reports an unknown tenant and an unknown user', async () => {
    const tenant = await cli(
      ['member', 'add', '--tenant', randomUUID(), '--email', 'x@example.com', '--role', 'owner'],
      { env },
    )
    expect(tenant.stderr.trim()).toBe('error: Tenant not found')
    const token = await cli(['token', 'create', '--email', 'nobody@example.com', '--name', 'x'], { env })
    expect(token.stderr.trim()).toBe('error: no user with e-mail nobody@example.com')
  })

  it('requires APP_KEY with DATABASE_URL', async () => {
    const result = await cli(
      ['tenant', 'add', '--name', 'X', '--entra-tenant-id', randomUUID(), '--client-id', randomUUID()],
      {
        env: { ...env, DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', TENANTATLAS_CLIENT_SECRET: 's' },
      },
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/APP_KEY is required with DATABASE_URL/)
  })
})

describe('CLI on PostgreSQL', () => {
  it('migrates and creates records through DATABASE_URL', async () => {
    await withScratchDatabase(async (url) => {
      const env = { DATABASE_URL: url, APP_KEY: Buffer.alloc(32, 7).toString('base64') }
      const migrate = await cli(['migrate'], { env })
      expect(migrate, migrate.stderr).toMatchObject({ code: 0 })
      const journal = JSON.parse(readFileSync('src/db/migrations/meta/_journal.json', 'utf8')) as { entries: unknown[] }
      expect(migrate.stdout).toMatch(new RegExp(`Migrations applied: ${journal.entries.length}\n`))
      expect((await cli(['migrate'], { env })).stdout).toMatch(/up to date/)
      const tenant = await cli(
        ['tenant', 'add', '--name', 'PG', '--entra-tenant-id', randomUUID(), '--client-id', randomUUID()],
        {
          env: { ...env, TENANTATLAS_CLIENT_SECRET: 'pg-secret' },
        },
      )
      expect(tenant, tenant.stderr).toMatchObject({ code: 0 })
      expect(lastLine(tenant.stdout)).toMatch(UUID_PATTERN)
    })
  })

  it('creates a token with a scope and an expiry, and refuses a bad one in one line', async () => {
    await withScratchDatabase(async (url) => {
      const env = { DATABASE_URL: url, APP_KEY: Buffer.alloc(32, 7).toString('base64') }
      const email = `script-${randomUUID().slice(0, 8)}@example.com`
      expect(
        (
          await cli(['user', 'create', '--email', email, '--name', 'Script'], {
            env: { ...env, TENANTATLAS_PASSWORD: 'long enough password' },
          })
        ).code,
      ).toBe(0)
      const token = await cli(
        ['token', 'create', '--email', email, '--name', 'ci', '--scope', 'read', '--expires-in-days', '7'],
        { env },
      )
      expect(token, token.stderr).toMatchObject({ code: 0 })
      expect(lastLine(token.stdout)).toMatch(/^ta_pat_/)
      for (const [flags, message] of [
        [['--scope', 'tenant.view,root'], /scope: unknown capability root/],
        [['--expires-in-days', 'soon'], /--expires-in-days must be a whole number of days, or never/],
        [['--expires-in-days', 'never'], /"never" is for workspace admins only/],
      ] as const) {
        const refused = await cli(['token', 'create', '--email', email, '--name', 'x', ...flags], { env })
        expect(refused.code).not.toBe(0)
        expect(refused.stderr.trim().split('\n')).toHaveLength(1)
        expect(refused.stderr).toMatch(message)
      }
    })
  })
})
