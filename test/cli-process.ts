import { spawn } from 'node:child_process'
import path from 'node:path'
import pg from 'pg'

const CLI = path.resolve('src/cli.ts')
export type CliResult = { code: number | null; stdout: string; stderr: string }

/** Runs the CLI as a user would: its own process, secrets in the environment or on stdin. */
export function cli(args: string[], options: { env?: Record<string, string>; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'warn', ...options.env }
    for (const name of ['DATABASE_URL', 'TENANTATLAS_PASSWORD', 'TENANTATLAS_CLIENT_SECRET', 'APP_KEY']) if (!options.env?.[name]) delete env[name]
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

/** A database of its own on the server in TEST_DATABASE_URL (for processes given DATABASE_URL), dropped afterwards. */
export async function withScratchDatabase<T>(run: (url: string) => Promise<T>): Promise<T> {
  const name = `ta_cli_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  try {
    const url = new URL(process.env.TEST_DATABASE_URL!)
    url.pathname = `/${name}`
    return await run(url.toString())
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin.end()
  }
}
