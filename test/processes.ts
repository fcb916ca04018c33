import { type ChildProcess, spawn } from 'node:child_process'
import path from 'node:path'
import pg from 'pg'
import { inject } from 'vitest'

/** The CLI and `serve` as users run them: their own processes, secrets in the environment or on stdin. */

export const CLI = path.resolve('src/cli.ts')
export type Result = { code: number | null; stdout: string; stderr: string }

export function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...options.env }
    for (const name of ['DATABASE_URL', 'TENANTATLAS_PASSWORD', 'TENANTATLAS_CLIENT_SECRET', 'APP_KEY'])
      if (!options.env?.[name]) delete env[name]
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
    child.stdin.end(options.input ?? '')
  })
}

export const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? ''

export type Server = { child: ChildProcess; url: string; output: () => string }

/** Starts `serve` on a free port of the embedded engine in `dataDir`; resolves once it prints its URL. */
export function startServer(dataDir: string, env: Record<string, string> = {}): Promise<Server> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'warn', DATABASE_URL: '', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer) => {
      output += d.toString()
      const match = /running at (http:\/\/localhost:\d+)/.exec(output)
      if (match) resolve({ child, url: match[1]!, output: () => output })
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)))
  })
}

/** Stops a server as an operator would (SIGTERM) and resolves with its exit code. */
export function stopServer(server: Server, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return Promise.resolve(server.child.exitCode)
  const exited = new Promise<number | null>((resolve) => server.child.once('exit', (code) => resolve(code)))
  server.child.kill(signal)
  return exited
}

/** The sign-in `serve` printed on its first start, as a session cookie. */
export async function signInFromBanner(server: Server): Promise<string> {
  const match = /sign in as (\S+) with password (\S+)/.exec(server.output())
  if (!match) throw new Error(`no first sign-in in: ${server.output()}`)
  const response = await fetch(`${server.url}/api/auth/sign-in`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: match[1], password: match[2] }),
  })
  if (response.status !== 200) throw new Error(`sign-in answered ${response.status}`)
  return response.headers.get('set-cookie')!.split(';')[0]!
}

/** A database of its own on the run's server (for processes given DATABASE_URL), dropped afterwards. */
export async function withScratchDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
  const server = inject('testServerUrl')
  const name = `ta_cli_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: server })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  try {
    const url = new URL(server)
    url.pathname = `/${name}`
    return await run(url.toString())
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}
