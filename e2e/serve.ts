import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

export type Served = {
  baseUrl: string
  admin: { email: string; password: string }
  emulatorUrl: string
  stop: () => Promise<void>
}

/**
 * Starts `tenantatlas serve` exactly as a user's first `npm start` does: an empty data directory, the
 * embedded engine, the admin sign-in and the demo tenant on the built-in Graph emulator, each read from
 * what it prints. `env` adds configuration (e.g. Sign in with Microsoft); `stop` ends it and removes the
 * data directory.
 */
export async function startServe(env: Record<string, string> = {}, prefix = 'ta-e2e-'): Promise<Served> {
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix))
  const child = spawn(process.execPath, ['src/cli.ts', 'serve', '--port', '0'], {
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn', HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const started = await new Promise<Omit<Served, 'stop'>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${output}`)), 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /running at (http:\/\/localhost:\d+)/.exec(output)
      const admin = /sign in as (\S+) with password (\S+)/.exec(output)
      const emulator = /Graph emulator at (http:\/\/\S+)/.exec(output)
      if (url && admin && emulator) {
        clearTimeout(timer)
        resolve({ baseUrl: url[1]!, admin: { email: admin[1]!, password: admin[2]! }, emulatorUrl: emulator[1]! })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)))
  })
  return {
    ...started,
    stop: async () => {
      child.removeAllListeners('exit')
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
