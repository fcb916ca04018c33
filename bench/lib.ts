import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import pg from 'pg'

export const CLI = path.resolve('src/cli.ts')
export const PG_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'
export const APP_KEY = Buffer.alloc(32, 1).toString('base64')

export type Server = { child: ChildProcess; url: string; startupMs: number; output: string }

/**
 * Starts `serve` as `npm start` does (`node --max-semi-space-size=8 src/cli.ts serve`), or another
 * script of `cwd` that prints the same banner, and measures the time from spawn to the first 200
 * from /healthz.
 */
export async function startServer(
  env: Record<string, string>,
  options: { cwd?: string; script?: string; args?: string[] } = {},
): Promise<Server> {
  const started = performance.now()
  const script = options.script ?? CLI
  const args = options.args ?? (options.script ? [] : ['serve', '--port', '0'])
  const child = spawn(process.execPath, ['--max-semi-space-size=8', script, ...args], {
    cwd: options.cwd,
    env: { ...process.env, LOG_LEVEL: 'warn', HOST: '127.0.0.1', DATABASE_URL: '', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString()
      const match = /running at (http:\/\/localhost:\d+)/.exec(output)
      if (match) resolve(match[1]!.replace('localhost', '127.0.0.1'))
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    // Keep reading so a chatty server never blocks on a full pipe.
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${output}`)))
  })
  for (;;) {
    const ok = await fetch(`${url}/healthz`).then(
      (r) => r.ok,
      () => false,
    )
    if (ok) break
    await sleep(5)
  }
  return { child, url, startupMs: performance.now() - started, output }
}

export async function stopServer(server: Server) {
  server.child.removeAllListeners('exit')
  const exited = new Promise((resolve) => server.child.once('exit', resolve))
  server.child.kill('SIGTERM')
  await exited
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resident set size of a process in MiB, from /proc. */
export function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0)
  return Math.round((kb / 1024) * 10) / 10
}

export async function withFreshPostgres<T>(run: (url: string) => Promise<T>): Promise<T> {
  const name = `ta_bench_${Date.now()}`
  const admin = new pg.Client({ connectionString: PG_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  try {
    const url = new URL(PG_URL)
    url.pathname = `/${name}`
    return await run(url.toString())
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}

export function cli(args: string[], env: Record<string, string>, input = ''): string {
  return execFileSync(process.execPath, [CLI, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: '', ...env },
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

export const hasWrk = () => {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' })
    return true
  } catch (error) {
    // wrk prints its version and exits 1
    return (error as { status?: number }).status === 1
  }
}

/**
 * Runs wrk and returns its latency percentiles in milliseconds and the request rate. Async, so a
 * server in this same process keeps answering while wrk runs.
 */
export async function wrk(
  url: string,
  options: { connections: number; seconds: number; threads: number; headers: string[]; warmupSeconds?: number },
) {
  const run = (seconds: number) =>
    promisify(execFile)(
      'wrk',
      [
        '-t',
        String(options.threads),
        '-c',
        String(options.connections),
        '-d',
        `${seconds}s`,
        '--latency',
        ...options.headers.flatMap((h) => ['-H', h]),
        url,
      ],
      { encoding: 'utf8' },
    )
  // A warm-up run first, unmeasured: JIT compilation and connection set-up are not the steady state.
  await run(options.warmupSeconds ?? 3)
  const { stdout: out } = await run(options.seconds)
  const toMs = (value: string) => {
    const match = /([\d.]+)(us|ms|s)/.exec(value)!
    const n = Number(match[1])
    return match[2] === 'us' ? n / 1000 : match[2] === 's' ? n * 1000 : n
  }
  const percentile = (p: string) => toMs(new RegExp(`\\s${p}%\\s+(\\S+)`).exec(out)![1]!)
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0)
  return {
    p50_ms: percentile('50'),
    p99_ms: percentile('99'),
    requests_per_s: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)![1]),
    non_2xx: non2xx,
    errors: /Socket errors: (.*)/.exec(out)?.[1] ?? 'none',
  }
}

export function writeReport(name: string, data: unknown) {
  mkdirSync('bench/results', { recursive: true })
  const file = path.join('bench/results', `${name}-${new Date().toISOString().replaceAll(':', '-')}.json`)
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n')
  return file
}

export type Emulator = { child: ChildProcess; url: string }

/** The Graph emulator in its own process (its CPU is not ours). */
export async function spawnEmulator(): Promise<Emulator> {
  const command = path.resolve('src/emulator/command.ts')
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { runEmulatorCommand } = await import(${JSON.stringify(command)}); process.exitCode = await runEmulatorCommand(['--port', '0'])`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      const match = /running at (http:\/\/[\d.:]+)/.exec(out)
      if (match) resolve(match[1]!)
    })
    child.once('exit', (code) => reject(new Error(`emulator exited ${code}`)))
  })
  return { child, url }
}

export async function stopEmulator(emulator: Emulator) {
  emulator.child.removeAllListeners('exit')
  const exited = new Promise((resolve) => emulator.child.once('exit', resolve))
  emulator.child.kill('SIGTERM')
  await exited
}

export async function control<T>(emulator: Emulator, method: string, route: string, body?: unknown): Promise<T> {
  const response = await fetch(`${emulator.url}/_emulator${route}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return (text ? JSON.parse(text) : null) as T
}
