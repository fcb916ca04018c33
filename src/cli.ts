#!/usr/bin/env node
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { DatabaseHandle } from './db/engine.ts'
import type { ComparisonRowStatus } from './db/schema.ts'
import type { DocsExportContext } from './modules/documentation/operation-types.ts'
import type { OperationsEngine } from './modules/operations/engine.ts'
import { ConfigError, loadConfig, type Config } from './lib/config.ts'
import { AppError } from './lib/errors.ts'

// Each command imports what it uses, when it runs: `--help` and `emulator` load no database or
// Graph code, and a command beside a running `serve` starts in well under a second.

const CLI_ACTOR = { kind: 'cli' } as const

const USAGE = `Usage: tenantatlas <command> [options]

  serve [--port N] [--no-worker]      web server (+ worker unless --no-worker)
  worker                              the operations worker alone (scale-out on PostgreSQL)
  migrate                             apply database migrations and exit
  user create --email E --name N [--admin] [--break-glass]
                                      password from TENANTATLAS_PASSWORD or stdin; --break-glass: signs
                                      in with it even when PASSWORD_SIGN_IN=off
  tenant add --name N --entra-tenant-id GUID --client-id ID [--cloud global|usgov|usgovdod|china|emulator]
                                      client secret from TENANTATLAS_CLIENT_SECRET or stdin
  member add --tenant ID --email E --role owner|manager|operator|readonly
                                      gives an existing user a role in the tenant (or changes it)
  token create --email E --name N [--scope full|read|CAP,CAP…] [--expires-in-days N|never] [--tenant-group ID]
                                      prints a personal API token once (defaults: full, 90 days;
                                      never: workspace admins only; --tenant-group: only that group's tenants)
  sync inventory --tenant ID [--quick] [--wait]
                                      starts an inventory sync as a system run (--quick: re-read only
                                      what changed); --wait follows it and exits non-zero unless it succeeded
  backup create --tenant ID [--name N] [--wait]
                                      starts a backup as a system run; --wait follows it and exits
                                      non-zero unless it succeeded
  backup export --backup ID --out FILE
                                      writes a backup set as a ZIP
  backup import --tenant ID --file FILE
                                      makes a backup ZIP a set of the tenant (verified first)
  bulk assign|unassign|tag|untag|rename|duplicate|delete --tenant ID (--items ID,… | --filter 'type=…&q=…')
       [--dry-run] [--wait]           a bulk operation as a system run (--dry-run: print the plan only);
                                      assign: --group ID [--exclude] [--assignment-filter ID [--filter-mode include|exclude]];
                                      unassign: --group ID; tag, untag: --scope-tag ID;
                                      rename: [--prefix P] [--suffix S] [--find F --replace R];
                                      duplicate: [--name-suffix S] [--without-assignments]; delete: --confirm-count N
  baseline list                       every baseline: id, version, entries, name
  baseline create --name N (--tenant ID --items ID,… | --backup ID [--items ID,…])
                                      a baseline from objects of a tenant or a backup set; prints its id
  baseline show --baseline ID         a baseline's entries (id, type, name, what is compared)
  drift evaluate --tenant ID          evaluates the tenant's enabled baselines now (inline) and prints
                                      findings opened, reopened and resolved per baseline
  findings list --tenant ID [--state S] [--severity S] [--baseline ID]
                                      the tenant's findings, newest first (state, severity, path, values)
  findings ack --tenant ID --finding ID
                                      acknowledges an open finding
  findings except --tenant ID --finding ID --reason R [--expires ISO-TIME]
                                      accepts the value the tenant holds now (until it changes or expires)
  diff --item ID [--from N] [--to N]  the readable changes between two versions of an inventory item
  assignments --tenant ID (--group GROUP_ID | --user UPN | --device NAME) [--json]
                                      what reaches a group, user or device, through nested groups
                                      (default: the previous version to the latest)
  alerts channels|rules               alert channels (targets masked) or rules, one JSON object a line
  alerts deliveries [--channel ID] [--status pending|sent|retrying|failed] [--limit N]
                                      the delivery log, newest first, one JSON object a line
  alerts test --channel ID            sends a test message to a channel; prints the receiver's answer
  compare --left SIDE --right SIDE [--status S] [--type T] [--format text|csv|md] [--out FILE]
                                      compares two states; SIDE is tenant:ID (now), tenant:ID@ISO-TIME,
                                      or backup:ID; prints the differences, then the comparison's id;
                                      --format csv|md writes the export to --out (or stdout, id on stderr)
  docs export --tenant ID --out FILE [--format markdown|html] [--at ISO-TIME | --backup ID | --baseline ID]
       [--without-assignments] [--changed-since ISO-TIME]
                                      documentation as a docs.export run (needs a worker: \`serve\` or
                                      \`worker\`): follows its progress, writes the Markdown ZIP
                                      (default) or the HTML file to --out; the run's id last
  data import-pglite --from DIR       moves a data directory of the earlier embedded engine (PGlite)
                                      into the embedded PostgreSQL cluster in DATA_DIR
  emulator [--port N] [--host H] [--seed S] [--policies N]
                                      the Microsoft Graph + login emulator, standalone (port 4010,
                                      127.0.0.1); --seed or --policies also create a demo tenant and
                                      print its credentials
  help, --help, -h                    this text

Secrets never come from the command line: the password from TENANTATLAS_PASSWORD, the client secret
from TENANTATLAS_CLIENT_SECRET, else from stdin (piped, or typed at a prompt without echo).

Output: a command that creates something prints its id (token create: the token) alone on the last
line of stdout; messages and progress go to stderr. Exit status: 0 done, 1 failed (--wait: the run
did not succeed), 2 bad usage; errors are one line.

Environment: DATABASE_URL (unset: the embedded cluster in DATA_DIR), DATA_DIR (./data), PORT (3000),
HOST (0.0.0.0), APP_KEY (required with DATABASE_URL), LOG_LEVEL (info), PUBLIC_URL, TRUST_PROXY (false),
GRAPH_EMULATOR_URL, RUN_RETENTION_DAYS (180), QUICK_SYNC_FULL_READ_DAYS (7); sign-in with Microsoft:
ENTRA_CLIENT_ID, ENTRA_CLIENT_SECRET, ENTRA_TENANT_ID, ENTRA_CLOUD (global), ENTRA_ROLE_CHECK_MINUTES (60),
STEP_UP_MAX_AGE_MINUTES (15), STEP_UP_ACRS, PASSWORD_SIGN_IN (on); alerts and metrics: SMTP_URL, MAIL_FROM,
METRICS_TOKEN, METRICS_PORT.`

class UsageError extends Error {}

const SINGLE_WORD = new Set(['serve', 'worker', 'migrate', 'emulator', 'help', 'diff', 'assignments', 'compare'])

/** Runs until SIGTERM or SIGINT, then stops what it started (in-flight runs are handed back). */
function untilSignal(stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    const shutdown = (signal: string) => {
      info(`${signal}: shutting down`)
      stop().then(
        () => resolve(0),
        (error: unknown) => {
          console.error(`error during shutdown: ${(error as Error).message}`)
          resolve(1)
        },
      )
    }
    process.once('SIGTERM', shutdown)
    process.once('SIGINT', shutdown)
  })
}

type Options = NonNullable<ParseArgsConfig['options']>
function parse<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values
  } catch (error) {
    throw new UsageError((error as Error).message.split('\n')[0])
  }
}

function required<T extends Record<string, unknown>>(values: T, ...names: (keyof T & string)[]) {
  for (const name of names)
    if (values[name] === undefined || values[name] === '') throw new UsageError(`--${name} is required`)
}

/**
 * Opens the database for a CLI command: beside a running `serve` it joins that server's embedded
 * cluster; with none running it starts the cluster for the command and stops it after.
 */
async function withDatabase<T>(
  config: Config,
  run: (handle: DatabaseHandle) => Promise<T>,
  options: { migrate: boolean } = { migrate: true },
): Promise<T> {
  const [{ openDatabase }, { runMigrations }] = await Promise.all([import('./db/engine.ts'), import('./db/migrate.ts')])
  const handle = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, role: 'cli' })
  let closing: Promise<void> | undefined
  const close = () => (closing ??= handle.close())
  // Ctrl-C (or a TERM) mid-command still stops a cluster this command started.
  const interrupted = () => void close().finally(() => process.exit(130))
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  try {
    if (options.migrate) await runMigrations(handle)
    return await run(handle)
  } finally {
    process.off('SIGINT', interrupted)
    process.off('SIGTERM', interrupted)
    await close()
  }
}

const out = (line: string) => process.stdout.write(line + '\n')
const info = (line: string) => process.stderr.write(line + '\n')

async function main(argv: string[]): Promise<number> {
  const [command, sub, ...rest] = argv
  const config = loadConfig()
  const single = command === undefined || command.startsWith('-') || SINGLE_WORD.has(command)
  const key = single ? command : `${command} ${sub ?? ''}`.trim()
  const args = single ? argv.slice(1) : rest

  switch (key) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      out(USAGE)
      return 0

    case 'serve': {
      const values = parse(args, { port: { type: 'string' }, 'no-worker': { type: 'boolean' } })
      const port = values.port === undefined ? config.port : Number(values.port)
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new UsageError('--port must be a port number (0-65535)')
      const { serve } = await import('./main.ts')
      const running = await serve(config, { port, worker: !values['no-worker'] }, out)
      return untilSignal(() => running.stop())
    }

    case 'worker': {
      parse(args, {})
      const { work } = await import('./main.ts')
      const running = await work(config, out)
      return untilSignal(() => running.stop())
    }

    case 'emulator':
      // Needs no database: the Microsoft Graph + login emulator on its own.
      return (await import('./emulator/command.ts')).runEmulatorCommand(args)

    case 'migrate': {
      parse(args, {})
      const { runMigrations } = await import('./db/migrate.ts')
      const { applied } = await withDatabase(config, runMigrations, { migrate: false })
      out(`Migrations applied: ${applied}${applied === 0 ? ' (database was up to date)' : ''}`)
      return 0
    }

    case 'user create': {
      const values = parse(args, {
        email: { type: 'string' },
        name: { type: 'string' },
        admin: { type: 'boolean' },
        'break-glass': { type: 'boolean' },
      })
      required(values, 'email', 'name')
      const [{ readSecret }, { createUser }] = await Promise.all([
        import('./lib/read-secret.ts'),
        import('./modules/access/create-user.ts'),
      ])
      const password = await readSecret('TENANTATLAS_PASSWORD', 'Password')
      const user = await withDatabase(config, (h) =>
        createUser(h.db, CLI_ACTOR, {
          email: values.email!,
          name: values.name!,
          password,
          is_admin: values.admin ?? false,
          break_glass: values['break-glass'] ?? false,
        }),
      )
      info(`Created ${user.breakGlass ? 'break-glass ' : ''}${user.isAdmin ? 'workspace admin' : 'user'} ${user.email}`)
      out(user.id)
      return 0
    }

    case 'tenant add': {
      const values = parse(args, {
        name: { type: 'string' },
        'entra-tenant-id': { type: 'string' },
        'client-id': { type: 'string' },
        cloud: { type: 'string' },
      })
      required(values, 'name', 'entra-tenant-id', 'client-id')
      const [{ readSecret }, { loadSecretBox }, { addTenant }] = await Promise.all([
        import('./lib/read-secret.ts'),
        import('./lib/app-key.ts'),
        import('./modules/tenants/add-tenant.ts'),
      ])
      const secrets = loadSecretBox(config)
      const clientSecret = await readSecret('TENANTATLAS_CLIENT_SECRET', 'Client secret')
      const { verifyAppKey } = await import('./modules/tenants/verify-app-key.ts')
      const tenant = await withDatabase(config, async (h) => {
        await verifyAppKey(h.db, secrets)
        return addTenant(h.db, secrets, CLI_ACTOR, {
          name: values.name!,
          entra_tenant_id: values['entra-tenant-id']!,
          client_id: values['client-id']!,
          client_secret: clientSecret,
          cloud: (values.cloud ?? 'global') as 'global',
        })
      })
      info(`Added tenant ${tenant.name}; give people access with \`member add --tenant ${tenant.id}\``)
      out(tenant.id)
      return 0
    }

    case 'member add': {
      const values = parse(args, { tenant: { type: 'string' }, email: { type: 'string' }, role: { type: 'string' } })
      required(values, 'tenant', 'email', 'role')
      const { addMember } = await import('./modules/tenants/members.ts')
      const { member, created } = await withDatabase(config, (h) =>
        addMember(
          h.db,
          CLI_ACTOR,
          values.tenant!,
          { email: values.email!, role: values.role as 'owner' },
          { upsert: true },
        ),
      )
      info(`${created ? 'Added' : 'Updated'} ${member.user.email} as ${member.membership.role}`)
      out(member.user.id)
      return 0
    }

    case 'token create': {
      const values = parse(args, {
        email: { type: 'string' },
        name: { type: 'string' },
        scope: { type: 'string' },
        'expires-in-days': { type: 'string' },
        'tenant-group': { type: 'string' },
      })
      required(values, 'email', 'name')
      const days = values['expires-in-days']
      if (days !== undefined && days !== 'never' && !/^\d+$/.test(days))
        throw new UsageError('--expires-in-days must be a whole number of days, or never')
      const [{ findUserByEmail }, { createApiToken }] = await Promise.all([
        import('./modules/access/repository.ts'),
        import('./modules/access/api-tokens.ts'),
      ])
      const secret = await withDatabase(config, async (h) => {
        const user = await findUserByEmail(h.db, values.email!)
        if (!user) throw new UsageError(`no user with e-mail ${values.email}`)
        const expires = days === undefined || days === 'never' ? days : Number(days)
        return (
          await createApiToken(h.db, CLI_ACTOR, user.id, {
            name: values.name!,
            scope: values.scope,
            expires_in_days: expires,
            ...(values['tenant-group'] ? { tenant_group_id: values['tenant-group'] } : {}),
          })
        ).secret
      })
      info('Created an API token. It is shown once: store it now.')
      out(secret)
      return 0
    }

    case 'sync inventory': {
      const values = parse(args, { tenant: { type: 'string' }, quick: { type: 'boolean' }, wait: { type: 'boolean' } })
      required(values, 'tenant')
      return withDatabase(config, (h) =>
        syncInventory(h, config, values.tenant!, values.wait ?? false, values.quick ? 'quick' : 'full'),
      )
    }

    case 'backup create': {
      const values = parse(args, { tenant: { type: 'string' }, name: { type: 'string' }, wait: { type: 'boolean' } })
      required(values, 'tenant')
      const { startBackup } = await import('./modules/backups/commands.ts')
      return withDatabase(config, (h) =>
        startSystemRun(h, config, values.tenant!, values.wait ?? false, 'backup', async (engine) => {
          const { run, deduplicated } = await startBackup(engine, h.db, {
            tenantId: values.tenant!,
            body: values.name === undefined ? {} : { name: values.name },
            initiatorUserId: null,
            actor: CLI_ACTOR,
          })
          return { run, deduplicated }
        }),
      )
    }

    case 'bulk assign':
    case 'bulk unassign':
    case 'bulk tag':
    case 'bulk untag':
    case 'bulk rename':
    case 'bulk duplicate':
    case 'bulk delete': {
      const values = parse(args, {
        tenant: { type: 'string' },
        items: { type: 'string' },
        filter: { type: 'string' },
        'dry-run': { type: 'boolean' },
        wait: { type: 'boolean' },
        group: { type: 'string' },
        exclude: { type: 'boolean' },
        'assignment-filter': { type: 'string' },
        'filter-mode': { type: 'string' },
        'scope-tag': { type: 'string' },
        prefix: { type: 'string' },
        suffix: { type: 'string' },
        find: { type: 'string' },
        replace: { type: 'string' },
        'name-suffix': { type: 'string' },
        'without-assignments': { type: 'boolean' },
        'confirm-count': { type: 'string' },
      })
      required(values, 'tenant')
      const body = bulkBody(key.split(' ')[1]!, values)
      const { planBulk, startBulk } = await import('./modules/bulk/start-bulk.ts')
      return withDatabase(config, async (h) => {
        if (values['dry-run']) {
          const [{ UUID_PATTERN }, { findTenant }] = await Promise.all([
            import('./lib/ids.ts'),
            import('./modules/tenants/repository.ts'),
          ])
          if (!UUID_PATTERN.test(values.tenant!) || !(await findTenant(h.db, values.tenant!)))
            throw new UsageError(`tenant ${values.tenant} not found`)
          const plan = await planBulk(h.db, values.tenant!, { ...body, dry_run: true, preview_limit: 100_000 })
          for (const item of plan.items)
            out(
              `${item.action === 'change' ? 'change' : 'skip  '}  ${item.id}  ${item.display_name} (${item.policy_type}): ${item.summary ?? `${item.code}: ${item.reason}`}`,
            )
          info(
            `${plan.item_count} items: ${plan.counts.change} to change, ${plan.counts.skip} skipped (dry run: nothing changed)`,
          )
          return 0
        }
        return startSystemRun(h, config, values.tenant!, values.wait ?? false, `bulk ${body.action}`, (engine) =>
          startBulk(engine, h.db, {
            tenantId: values.tenant!,
            body: { ...body, dry_run: false },
            initiatorUserId: null,
            actor: CLI_ACTOR,
          }),
        )
      })
    }

    case 'backup export': {
      const values = parse(args, { backup: { type: 'string' }, out: { type: 'string' } })
      required(values, 'backup', 'out')
      const [{ UUID_PATTERN }, { eq }, { backupSets }, { exportBackupZip }, { pipeline }, { createWriteStream }] =
        await Promise.all([
          import('./lib/ids.ts'),
          import('drizzle-orm'),
          import('./db/schema.ts'),
          import('./modules/backups/zip-export.ts'),
          import('node:stream/promises'),
          import('node:fs'),
        ])
      return withDatabase(config, async (h) => {
        const [set] = UUID_PATTERN.test(values.backup!)
          ? await h.db.select().from(backupSets).where(eq(backupSets.id, values.backup!))
          : []
        if (!set || set.status === 'running' || set.status === 'failed')
          throw new UsageError(`backup ${values.backup} not found, or not complete`)
        // Signed with APP_KEY: an import into this workspace shows its source as verified.
        const { loadSecretBox } = await import('./lib/app-key.ts')
        await pipeline(exportBackupZip(h.db, set, loadSecretBox(config)), createWriteStream(values.out!))
        info(`Exported backup "${set.name}" (${set.itemCount} objects)`)
        out(values.out!)
        return 0
      })
    }

    case 'backup import': {
      const values = parse(args, { tenant: { type: 'string' }, file: { type: 'string' } })
      required(values, 'tenant', 'file')
      const [{ UUID_PATTERN }, { findTenant }, { importBackup }, { DEFAULT_IMPORT_LIMITS }, { stat }] =
        await Promise.all([
          import('./lib/ids.ts'),
          import('./modules/tenants/repository.ts'),
          import('./modules/backups/commands.ts'),
          import('./modules/backups/zip-import.ts'),
          import('node:fs/promises'),
        ])
      const size = await stat(values.file!).then(
        (s) => s.size,
        () => {
          throw new UsageError(`cannot read ${values.file}`)
        },
      )
      if (size > DEFAULT_IMPORT_LIMITS.maxBytes)
        throw new UsageError(`${values.file} is larger than the limit of ${DEFAULT_IMPORT_LIMITS.maxBytes} bytes`)
      return withDatabase(config, async (h) => {
        if (!UUID_PATTERN.test(values.tenant!) || !(await findTenant(h.db, values.tenant!)))
          throw new UsageError(`tenant ${values.tenant} not found`)
        const { loadSecretBox } = await import('./lib/app-key.ts')
        const access = { tenantId: values.tenant!, userId: null }
        const id = await importBackup(
          h.db,
          access,
          CLI_ACTOR,
          values.file!,
          DEFAULT_IMPORT_LIMITS,
          loadSecretBox(config),
        )
        info('Imported the backup')
        out(id)
        return 0
      })
    }

    case 'baseline list': {
      parse(args, {})
      const [{ listBaselines }, { tenants }] = await Promise.all([
        import('./modules/baselines/repository.ts'),
        import('./db/schema.ts'),
      ])
      return withDatabase(config, async (h) => {
        const ids = (await h.db.select({ id: tenants.id }).from(tenants)).map((t) => t.id)
        for (const row of await listBaselines(h.db, ids))
          out([row.baseline.id, `v${row.baseline.version}`, `${row.entryCount} entries`, row.baseline.name].join('\t'))
        return 0
      })
    }

    case 'baseline create': {
      const values = parse(args, {
        name: { type: 'string' },
        tenant: { type: 'string' },
        backup: { type: 'string' },
        items: { type: 'string' },
      })
      required(values, 'name')
      if ((values.tenant === undefined) === (values.backup === undefined))
        throw new UsageError('name exactly one of --tenant or --backup')
      const items = values.items
        ?.split(',')
        .map((i) => i.trim())
        .filter(Boolean)
      const [{ createBaseline }, { createBaselineBody }, { parseInput }] = await Promise.all([
        import('./modules/baselines/create-baseline.ts'),
        import('./modules/baselines/schemas.ts'),
        import('./lib/validation.ts'),
      ])
      const body = parseInput(createBaselineBody, {
        name: values.name,
        from: values.tenant
          ? { tenant_id: values.tenant, item_ids: items ?? [] }
          : { backup_id: values.backup, item_ids: items },
      })
      return withDatabase(config, async (h) => {
        const id = await createBaseline(h.db, CLI_ACTOR, null, body, async () => {})
        info(`Created baseline "${body.name}"`)
        out(id)
        return 0
      })
    }

    case 'baseline show': {
      const values = parse(args, { baseline: { type: 'string' } })
      required(values, 'baseline')
      const { findBaseline, currentEntries } = await import('./modules/baselines/repository.ts')
      return withDatabase(config, async (h) => {
        const baseline = await findBaseline(h.db, values.baseline!)
        if (!baseline) throw new UsageError(`baseline ${values.baseline} not found`)
        info(`${baseline.name} (version ${baseline.version})`)
        for (const e of await currentEntries(h.db, baseline.id)) {
          const compare = e.compare.mode === 'whole' ? 'whole' : `settings: ${(e.compare.settings ?? []).join(', ')}`
          const assignments = e.compare.assignments ? 'with assignments' : 'without assignments'
          out([e.id, e.policyType, e.displayName, compare, assignments].join('\t'))
        }
        return 0
      })
    }

    case 'drift evaluate': {
      const values = parse(args, { tenant: { type: 'string' } })
      required(values, 'tenant')
      const [{ evaluateTenant }, { findTenant }, { UUID_PATTERN }] = await Promise.all([
        import('./modules/baselines/evaluate.ts'),
        import('./modules/tenants/repository.ts'),
        import('./lib/ids.ts'),
      ])
      return withDatabase(config, async (h) => {
        if (!UUID_PATTERN.test(values.tenant!) || !(await findTenant(h.db, values.tenant!)))
          throw new UsageError(`tenant ${values.tenant} not found`)
        const results = await evaluateTenant(h.db, values.tenant!, { now: new Date(), actor: CLI_ACTOR })
        if (results.length === 0) info('No enabled baseline is assigned to the tenant')
        for (const r of results)
          out(
            [
              r.baseline_id,
              `opened ${r.opened}`,
              `reopened ${r.reopened}`,
              `resolved ${r.resolved}`,
              `unknown ${r.unknown}`,
            ].join('\t'),
          )
        return 0
      })
    }

    case 'findings list': {
      const values = parse(args, {
        tenant: { type: 'string' },
        state: { type: 'string' },
        severity: { type: 'string' },
        baseline: { type: 'string' },
      })
      required(values, 'tenant')
      const [{ listFindings }, { presentFinding, FINDING_PRESENTED_STATES }, { FINDING_SEVERITIES }] =
        await Promise.all([
          import('./modules/findings/repository.ts'),
          import('./modules/findings/presenter.ts'),
          import('./db/schema.ts'),
        ])
      const state = values.state as (typeof FINDING_PRESENTED_STATES)[number] | undefined
      if (state !== undefined && !FINDING_PRESENTED_STATES.includes(state))
        throw new UsageError(`--state must be one of ${FINDING_PRESENTED_STATES.join(', ')}`)
      const severity = values.severity as (typeof FINDING_SEVERITIES)[number] | undefined
      if (severity !== undefined && !FINDING_SEVERITIES.includes(severity))
        throw new UsageError(`--severity must be one of ${FINDING_SEVERITIES.join(', ')}`)
      return withDatabase(config, async (h) => {
        let after: string | undefined
        for (;;) {
          const rows = await listFindings(
            h.db,
            values.tenant!,
            { baselineId: values.baseline, state, severity },
            { after, limit: 500 },
          )
          for (const { finding } of rows) {
            const f = presentFinding(finding)
            const who = finding.causedBy?.changed_by
            const actor = who?.user_principal_name ?? who?.app_name ?? ''
            out(
              [
                f.id,
                f.state,
                f.severity,
                f.kind,
                f.label,
                JSON.stringify(f.expected),
                JSON.stringify(f.actual),
                actor,
              ].join('\t'),
            )
          }
          if (rows.length < 500) return 0
          after = rows.at(-1)!.finding.id
        }
      })
    }

    case 'findings ack':
    case 'findings except': {
      const values = parse(args, {
        tenant: { type: 'string' },
        finding: { type: 'string' },
        reason: { type: 'string' },
        expires: { type: 'string' },
      })
      required(values, 'tenant', 'finding')
      if (key === 'findings except') required(values, 'reason')
      const { acknowledge, except } = await import('./modules/findings/commands.ts')
      if (values.expires !== undefined && Number.isNaN(Date.parse(values.expires)))
        throw new UsageError('--expires must be an ISO 8601 date and time')
      return withDatabase(config, async (h) => {
        const row =
          key === 'findings ack'
            ? await acknowledge(h.db, CLI_ACTOR, values.tenant!, null, values.finding!)
            : await except(h.db, CLI_ACTOR, values.tenant!, { id: null, name: 'CLI' }, values.finding!, {
                reason: values.reason!,
                expires_at: values.expires ? new Date(values.expires).toISOString() : null,
              })
        info(`Finding ${row.state}`)
        out(row.id)
        return 0
      })
    }

    case 'diff': {
      const values = parse(args, { item: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } })
      required(values, 'item')
      const version = (name: 'from' | 'to') => {
        const raw = values[name]
        if (raw === undefined) return undefined
        if (!/^[1-9]\d{0,8}$/.test(raw)) throw new UsageError(`--${name} must be a version number (1 or more)`)
        return Number(raw)
      }
      const query = { from: version('from'), to: version('to') }
      return withDatabase(config, (h) => printDiff(h, values.item!, query))
    }

    case 'assignments': {
      const values = parse(args, {
        tenant: { type: 'string' },
        group: { type: 'string' },
        user: { type: 'string' },
        device: { type: 'string' },
        json: { type: 'boolean' },
      })
      required(values, 'tenant')
      const [
        { loadSecretBox },
        { assignmentsQuery },
        { whatReaches },
        { GraphClient },
        { createMsalTokenProvider },
        { parseInput },
        { UUID_PATTERN },
      ] = await Promise.all([
        import('./lib/app-key.ts'),
        import('./modules/assignments/schemas.ts'),
        import('./modules/assignments/what-reaches.ts'),
        import('./graph/graph-client.ts'),
        import('./graph/token-provider.ts'),
        import('./lib/validation.ts'),
        import('./lib/ids.ts'),
      ])
      if ([values.group, values.user, values.device].filter((v) => v !== undefined).length !== 1) {
        throw new UsageError('name exactly one of --group, --user or --device')
      }
      const query = parseInput(assignmentsQuery, { group_id: values.group, user: values.user, device: values.device })
      if (!UUID_PATTERN.test(values.tenant!)) throw new UsageError(`tenant ${values.tenant} not found`)
      const secrets = loadSecretBox(config)
      const graph = new GraphClient({ tokens: createMsalTokenProvider() })
      const result = await withDatabase(config, (h) =>
        whatReaches(h.db, graph, secrets, config.graphEmulatorUrl, values.tenant!, query),
      )
      if (values.json) {
        out(JSON.stringify(result, null, 2))
        return 0
      }
      for (const w of result.warnings) info(`warning: ${w.message}`)
      info(
        `${result.subject.name}: in ${result.groups.length} group(s)${result.groups.length ? ` (${result.groups.map((g) => g.name).join(', ')})` : ''}`,
      )
      for (const a of result.assignments) {
        const via = a.via_group?.name ?? (a.via === 'all_users' ? 'All users' : 'All devices')
        const state = a.kind === 'exclude' ? 'excluded' : a.effective ? 'included' : 'included, excluded elsewhere'
        const filter = a.filter ? ` filter ${a.filter.name ?? a.filter.id} (${a.filter.mode})` : ''
        out([a.item.policy_type, a.item.display_name, state, a.intent ?? '-', `via ${via}${filter}`].join('\t'))
      }
      return 0
    }

    case 'compare': {
      const values = parse(args, {
        left: { type: 'string' },
        right: { type: 'string' },
        status: { type: 'string' },
        type: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
      })
      required(values, 'left', 'right')
      const format = values.format ?? 'text'
      if (!['text', 'csv', 'md'].includes(format)) throw new UsageError('--format must be text, csv or md')
      const statuses = ['only_left', 'only_right', 'different', 'same'] as const
      if (values.status !== undefined && !(statuses as readonly string[]).includes(values.status))
        throw new UsageError(`--status must be one of ${statuses.join(', ')}`)
      const body = { left: cliSide('left', values.left!), right: cliSide('right', values.right!) }
      return withDatabase(config, (h) =>
        printComparison(h, body, {
          status: values.status as (typeof statuses)[number] | undefined,
          type: values.type,
          format: format as 'text' | 'csv' | 'md',
          out: values.out,
        }),
      )
    }

    case 'docs export': {
      const values = parse(args, {
        tenant: { type: 'string' },
        out: { type: 'string' },
        format: { type: 'string' },
        at: { type: 'string' },
        backup: { type: 'string' },
        baseline: { type: 'string' },
        'without-assignments': { type: 'boolean' },
        'changed-since': { type: 'string' },
      })
      required(values, 'tenant', 'out')
      const named = [values.at, values.backup, values.baseline].filter((v) => v !== undefined)
      if (named.length > 1) throw new UsageError('name at most one of --at, --backup or --baseline')
      const body = {
        source:
          values.at !== undefined
            ? { at: values.at }
            : values.backup !== undefined
              ? { backup_id: values.backup }
              : values.baseline !== undefined
                ? { baseline_id: values.baseline }
                : { now: true },
        format: values.format ?? 'markdown',
        include_assignments: !values['without-assignments'],
        ...(values['changed-since'] !== undefined ? { changed_since: values['changed-since'] } : {}),
      }
      return withDatabase(config, (h) => exportDocumentation(h, config, values.tenant!, body, values.out!))
    }

    case 'alerts channels':
    case 'alerts rules':
    case 'alerts deliveries': {
      const values = parse(args, { channel: { type: 'string' }, status: { type: 'string' }, limit: { type: 'string' } })
      const [repository, presenter, { deliveriesQuery }] = await Promise.all([
        import('./modules/alerts/repository.ts'),
        import('./modules/alerts/presenter.ts'),
        import('./modules/alerts/schemas.ts'),
      ])
      const query = deliveriesQuery.safeParse({
        channel_id: values.channel,
        status: values.status,
        limit: values.limit,
      })
      if (!query.success)
        throw new UsageError(
          `--${query.error.issues[0]?.path[0] === 'channel_id' ? 'channel' : String(query.error.issues[0]?.path[0])}: ${query.error.issues[0]?.message}`,
        )
      const rows = await withDatabase(config, async (h) =>
        sub === 'channels'
          ? (await repository.listChannels(h.db)).map(presenter.presentChannel)
          : sub === 'rules'
            ? (await repository.listRules(h.db)).map(presenter.presentRule)
            : (
                await repository.listDeliveries(
                  h.db,
                  { channelId: query.data.channel_id, status: query.data.status },
                  { limit: query.data.limit },
                )
              )
                .slice(0, query.data.limit)
                .map(presenter.presentDelivery),
      )
      for (const row of rows) out(JSON.stringify(row))
      return 0
    }

    case 'alerts test': {
      const values = parse(args, { channel: { type: 'string' } })
      required(values, 'channel')
      const [{ loadSecretBox }, { testChannel }, { consoleUrlOf }] = await Promise.all([
        import('./lib/app-key.ts'),
        import('./modules/alerts/test-channel.ts'),
        import('./modules/alerts/routes.ts'),
      ])
      const secrets = loadSecretBox(config)
      const result = await withDatabase(config, (h) =>
        testChannel(h.db, secrets, CLI_ACTOR, values.channel!, {
          consoleUrl: consoleUrlOf(config),
          mail: config.mail,
          timeoutMs: 10_000,
        }),
      )
      out(`${result.status}: ${result.response}`)
      return result.status === 'sent' ? 0 : 1
    }

    case 'data import-pglite': {
      const values = parse(args, { from: { type: 'string' } })
      required(values, 'from')
      if (config.databaseUrl)
        throw new UsageError('data import-pglite moves data into the embedded cluster in DATA_DIR: unset DATABASE_URL')
      const { importPglite } = await import('./db/pglite-import.ts')
      const result = await importPglite({ from: values.from!, dataDir: config.dataDir, log: info })
      info(
        `Imported ${result.rows} rows of ${result.tables} tables into the embedded PostgreSQL cluster in ${config.dataDir}`,
      )
      out(config.dataDir)
      return 0
    }

    default:
      throw new UsageError(`unknown command "${[command, sub].filter(Boolean).join(' ')}"; run \`tenantatlas --help\``)
  }
}

/** `sync inventory`: a system run (no initiator, so nobody is notified); --wait follows it to the end. */
async function syncInventory(
  handle: DatabaseHandle,
  config: Config,
  tenantId: string,
  wait: boolean,
  mode: 'full' | 'quick',
): Promise<number> {
  const { startInventorySync } = await import('./modules/inventory/start-sync.ts')
  return startSystemRun(handle, config, tenantId, wait, 'inventory sync', (engine) =>
    startInventorySync(engine, {
      tenantId,
      selection: mode === 'quick' ? { mode } : undefined,
      initiatorUserId: null,
      actor: CLI_ACTOR,
    }),
  )
}

/** Starts a system run of a tenant through a queue-only operations runtime; `wait` follows it to the end (exit 0 only on success). */
async function startSystemRun(
  handle: DatabaseHandle,
  config: Config,
  tenantId: string,
  wait: boolean,
  what: string,
  start: (engine: OperationsEngine) => Promise<{ run: { id: string }; deduplicated: boolean }>,
): Promise<number> {
  const [{ UUID_PATTERN }, { findTenant }, { createLogger }, { startOperations }, { loadSecretBox }, { verifyAppKey }] =
    await Promise.all([
      import('./lib/ids.ts'),
      import('./modules/tenants/repository.ts'),
      import('./lib/logger.ts'),
      import('./jobs/runtime.ts'),
      import('./lib/app-key.ts'),
      import('./modules/tenants/verify-app-key.ts'),
    ])
  if (!UUID_PATTERN.test(tenantId) || !(await findTenant(handle.db, tenantId)))
    throw new UsageError(`tenant ${tenantId} not found`)
  const logger = createLogger('silent')
  const secrets = loadSecretBox(config)
  await verifyAppKey(handle.db, secrets)
  const operations = await startOperations({
    handle,
    logger,
    worker: false,
    shipped: { secrets, emulatorUrl: config.graphEmulatorUrl },
  })
  try {
    const { run, deduplicated } = await start(operations.engine)
    info(
      deduplicated
        ? `An identical ${what} of this tenant is already active: following run ${run.id}`
        : `${what[0]!.toUpperCase()}${what.slice(1)} queued: run ${run.id}`,
    )
    if (!wait) {
      out(run.id)
      return 0
    }
    const done = await followRun(handle, run.id)
    out(run.id)
    return done.outcome === 'succeeded' ? 0 : 1
  } finally {
    await operations.stop()
  }
}

/**
 * `docs export`: starts a docs.export run as the API does (the source checked first), follows it
 * and writes the finished document to `out`, streamed chunk by chunk as the download route does.
 */
async function exportDocumentation(
  handle: DatabaseHandle,
  config: Config,
  tenantId: string,
  body: Record<string, unknown>,
  file: string,
): Promise<number> {
  const [{ validatedInput }, { sideOfSource }, docs, { createWriteStream }, { pipeline }, { Readable }] =
    await Promise.all([
      import('./modules/operations/start-run.ts'),
      import('./modules/documentation/export-run.ts'),
      import('./modules/documentation/repository.ts'),
      import('node:fs'),
      import('node:stream/promises'),
      import('node:stream'),
    ])
  let runId = ''
  const code = await startSystemRun(handle, config, tenantId, true, 'documentation export', async (engine) => {
    const context = validatedInput(engine.catalog, 'docs.export', body)
    await sideOfSource(handle.db, tenantId, (context as DocsExportContext).source).catch((error: unknown) => {
      if (error instanceof AppError && error.status < 500) throw new UsageError(error.message)
      throw error
    })
    const started = await engine.startRun({
      tenantId,
      type: 'docs.export',
      context,
      initiatorUserId: null,
      actor: CLI_ACTOR,
    })
    runId = started.run.id
    return started
  })
  if (code !== 0) return code
  const doc = await docs.findDocumentation(handle.db, tenantId, runId)
  if (!doc?.completedAt) throw new Error(`run ${runId} finished without a document`)
  await pipeline(Readable.from(docs.documentationBytes(handle.db, runId)), createWriteStream(file))
  info(`Wrote ${doc.filename} (${doc.byteCount} bytes) to ${file}`)
  return 0
}

/** `diff`: an item's readable changes between two versions, one per line. */
async function printDiff(
  handle: DatabaseHandle,
  itemId: string,
  query: { from: number | undefined; to: number | undefined },
): Promise<number> {
  const [{ eq }, { inventoryItems }, { UUID_PATTERN }, { itemDiff }] = await Promise.all([
    import('drizzle-orm'),
    import('./db/schema.ts'),
    import('./lib/ids.ts'),
    import('./modules/inventory/item-diff.ts'),
  ])
  const [item] = UUID_PATTERN.test(itemId)
    ? await handle.db.select().from(inventoryItems).where(eq(inventoryItems.id, itemId))
    : []
  if (!item) throw new UsageError(`item ${itemId} not found`)
  const diff = await itemDiff(handle.db, item.tenantId, item.id, query)
  const show = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value))
  info(
    `${item.displayName} (${item.policyType}): version ${diff.from?.number ?? 'none'} → ${diff.to?.number ?? 'none'}`,
  )
  if (diff.changes.length === 0) info('No changes.')
  for (const c of diff.changes) {
    if (c.kind === 'changed') out(`~ ${c.label}: ${show(c.before)} → ${show(c.after)}`)
    else if (c.kind === 'added') out(`+ ${c.label}: ${show(c.after)}`)
    else out(`- ${c.label}: ${show(c.before)}`)
  }
  return 0
}

/** A comparison side from the command line: `tenant:ID`, `tenant:ID@ISO-TIME`, `backup:ID` or `baseline:ID`. */
function cliSide(flag: string, text: string): Record<string, string> {
  const match = /^(tenant|backup|baseline):([^@]+)(?:@(.+))?$/.exec(text)
  if (!match || (match[3] !== undefined && match[1] !== 'tenant'))
    throw new UsageError(`--${flag} must be tenant:ID, tenant:ID@ISO-TIME, backup:ID or baseline:ID`)
  const [, kind, id, at] = match
  return { [`${kind}_id`]: id!, ...(at ? { at } : {}) }
}

/** `compare`: computes a comparison inline and prints (or writes) it; the comparison's id last. */
async function printComparison(
  handle: DatabaseHandle,
  input: Record<string, unknown>,
  options: {
    status?: ComparisonRowStatus | undefined
    type?: string | undefined
    format: 'text' | 'csv' | 'md'
    out?: string | undefined
  },
): Promise<number> {
  const [
    { parseInput },
    start,
    repo,
    { presentComparison },
    exports,
    { createWriteStream },
    { pipeline },
    { Readable },
  ] = await Promise.all([
    import('./lib/validation.ts'),
    import('./modules/compare/start-comparison.ts'),
    import('./modules/compare/repository.ts'),
    import('./modules/compare/presenter.ts'),
    import('./modules/compare/export.ts'),
    import('node:fs'),
    import('node:stream/promises'),
    import('node:stream'),
  ])
  const body = parseInput(start.comparisonBody, input)
  const { comparisonId } = await start
    .startComparison(handle.db, null, {
      body,
      userId: null,
      actor: CLI_ACTOR,
      canView: async () => {},
    })
    .catch((error: unknown) => {
      if (error instanceof AppError && error.status === 404) throw new UsageError(error.message)
      throw error
    })
  const comparison = presentComparison((await repo.findComparison(handle.db, comparisonId))!)
  const c = comparison.counts
  info(`${comparison.left.label} ↔ ${comparison.right.label}`)
  info(`only left ${c.only_left}, only right ${c.only_right}, different ${c.different}, same ${c.same}`)
  for (const m of comparison.mapping.filter((m) => m.right_id === null))
    info(`not mapped: ${m.kind} ${m.left_name ?? m.left_id}`)
  const filters = { status: options.status, type: options.type }
  if (options.format !== 'text') {
    const statuses = options.status ? [options.status] : (['only_left', 'only_right', 'different', 'same'] as const)
    const text =
      options.format === 'csv'
        ? exports.comparisonCsv(repo.eachComparisonRow(handle.db, comparisonId, filters))
        : exports.comparisonMarkdown(comparison, statuses, (s) =>
            repo.eachComparisonRow(handle.db, comparisonId, { status: s, type: options.type }),
          )
    if (!options.out) {
      // The document is the output: the id goes to stderr.
      for await (const chunk of text) process.stdout.write(chunk)
      info(`Comparison ${comparisonId}`)
      return 0
    }
    await pipeline(Readable.from(text), createWriteStream(options.out))
  } else {
    for await (const row of repo.eachComparisonRow(handle.db, comparisonId, filters)) {
      if (row.status === 'same' && !options.status) continue
      const name = (row.left ?? row.right)?.name
      out([row.status, row.policyType, typeof name === 'string' ? name : ''].join('\t'))
      for (const ch of row.changes)
        out(
          `  ${ch.kind === 'changed' ? '~' : ch.kind === 'added' ? '+' : '-'} ${String(ch.label)}: ${exports.showValue(ch.before)} → ${exports.showValue(ch.after)}`,
        )
    }
  }
  out(comparisonId)
  return 0
}

/** Prints a run's progress on stderr until it completes; returns the completed run. */
async function followRun(handle: DatabaseHandle, runId: string) {
  const [{ eq }, { operationRuns }] = await Promise.all([import('drizzle-orm'), import('./db/schema.ts')])
  const started = Date.now()
  let last = ''
  let hinted = false
  for (;;) {
    const [run] = await handle.db.select().from(operationRuns).where(eq(operationRuns.id, runId))
    if (!run) throw new Error(`run ${runId} disappeared`)
    const c = run.summaryCounts
    const line = `${run.status}: ${c.processed ?? 0}/${c.total ?? '?'} units · created ${c.created ?? 0}, updated ${c.updated ?? 0}, unchanged ${c.unchanged ?? 0}, removed ${c.removed ?? 0}`
    if (line !== last) info((last = line))
    if (run.status === 'completed') {
      for (const f of run.failures) info(`  ${f.code}${f.subject ? ` (${f.subject})` : ''}: ${f.message}`)
      info(`Finished: ${run.outcome ?? 'unknown'} in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      return run
    }
    if (!hinted && run.status === 'queued' && Date.now() - started > 30_000) {
      hinted = true
      info('Still queued after 30 s: is a worker running (`tenantatlas serve` or `tenantatlas worker`)?')
    }
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

const BULK_VERBS: Record<string, string> = {
  assign: 'assign',
  unassign: 'unassign',
  tag: 'add_scope_tag',
  untag: 'remove_scope_tag',
  rename: 'rename',
  duplicate: 'duplicate',
  delete: 'delete',
}

/** The bulk-operations request a `bulk <verb>` command line stands for (what the API takes). */
function bulkBody(
  verb: string,
  v: Record<string, string | boolean | undefined>,
): { action: string; params: Record<string, unknown>; item_ids?: string[]; filter?: Record<string, string> } {
  const action = BULK_VERBS[verb]!
  if ((v.items === undefined) === (v.filter === undefined))
    throw new UsageError("give either --items ID,… or --filter 'type=…&q=…'")
  const selection: { item_ids?: string[]; filter?: Record<string, string> } = {}
  if (typeof v.items === 'string')
    selection.item_ids = v.items
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  if (typeof v.filter === 'string') {
    const query = new URLSearchParams(v.filter)
    const unknown = [...query.keys()].filter((k) => !['type', 'category', 'q'].includes(k))
    if (unknown.length > 0) throw new UsageError(`--filter takes type, category and q (not ${unknown.join(', ')})`)
    selection.filter = Object.fromEntries(query.entries())
  }
  const str = (name: string) => (typeof v[name] === 'string' ? v[name] : undefined)
  const params: Record<string, unknown> = {}
  const set = (key: string, value: unknown) => value !== undefined && (params[key] = value)
  switch (action) {
    case 'assign':
      required(v, 'group')
      set('group_id', str('group'))
      set('intent', v.exclude ? 'exclude' : 'include')
      set('filter_id', str('assignment-filter'))
      set('filter_mode', str('filter-mode'))
      break
    case 'unassign':
      required(v, 'group')
      set('group_id', str('group'))
      break
    case 'add_scope_tag':
    case 'remove_scope_tag':
      required(v, 'scope-tag')
      set('scope_tag_id', str('scope-tag'))
      break
    case 'rename':
      for (const k of ['prefix', 'suffix', 'find', 'replace']) set(k, str(k))
      break
    case 'duplicate':
      set('name_suffix', str('name-suffix'))
      if (v['without-assignments']) params.with_assignments = false
      break
    case 'delete': {
      required(v, 'confirm-count')
      if (!/^\d+$/.test(str('confirm-count')!))
        throw new UsageError('--confirm-count must be the number of items to delete')
      params.confirm_count = Number(str('confirm-count'))
      break
    }
  }
  return { action, params, ...selection }
}

/** Field names of command input, as the CLI flags that carry them. */
const asFlags = (message: string) =>
  message.replace(/\b([a-z]+(?:_[a-z]+)+|email|name|role|cloud|tenant)(?=: )/g, (f) => `--${f.replaceAll('_', '-')}`)

function describe(error: unknown): string {
  if (error instanceof AppError) {
    if (error.code === 'not_found') return error.message.replace(' or no access', '')
    return error.status === 422 ? asFlags(error.message) : error.message
  }
  if (error instanceof UsageError || error instanceof ConfigError || (error as Error).name === 'ClusterError')
    return (error as Error).message
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ENOENT')
    return `cannot reach the database (${code}): check DATABASE_URL or DATA_DIR`
  return (error as Error).message ?? String(error)
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${describe(error).replaceAll('\n', ' ')}`)
    process.exit(error instanceof UsageError ? 2 : 1)
  },
)
