import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

/**
 * Starts `tenantatlas serve` exactly as a user's first `npm start` does: an empty data
 * directory, the embedded engine, the admin sign-in, the demo tenant ("Contoso (demo)") on the
 * built-in Graph emulator, whose URL is read from what it prints (the specs slow it down).
 * The web console is built beforehand (`pretest:e2e`).
 */
export default async function globalSetup() {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'ta-e2e-'))
  const child = spawn(process.execPath, ['src/cli.ts', 'serve', '--port', '0'], {
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start: ${output}`)), 60_000)
    const onData = (chunk: Buffer) => {
      output += chunk.toString()
      const url = /running at (http:\/\/localhost:\d+)/.exec(output)
      const admin = /sign in as (\S+) with password (\S+)/.exec(output)
      const emulator = /Graph emulator at (http:\/\/\S+)/.exec(output)
      if (url && admin && emulator) {
        clearTimeout(timer)
        process.env.E2E_BASE_URL = url[1]
        process.env.E2E_ADMIN_EMAIL = admin[1]
        process.env.E2E_ADMIN_PASSWORD = admin[2]
        process.env.E2E_EMULATOR_URL = emulator[1]
        resolve()
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${output}`)))
  })
  return async () => {
    child.removeAllListeners('exit')
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
    rmSync(dataDir, { recursive: true, force: true })
  }
}
