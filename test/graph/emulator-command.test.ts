import { spawn } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { runEmulatorCommand } from '../../src/emulator/command.ts'

const COMMAND = path.resolve('src/emulator/command.ts')

describe('tenantatlas emulator', () => {
  it('runs standalone with a demo tenant, prints its URL, serves Graph and stops on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { runEmulatorCommand } = await import(${JSON.stringify(COMMAND)}); process.exitCode = await runEmulatorCommand(process.argv.slice(1))`,
        '--',
        '--port',
        '0',
        '--seed',
        's',
        '--policies',
        '40',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const lines = out.split('\n')
        if (lines.length >= 4) resolve(lines[2]!.trim())
      })
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)))
    })
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(out).toMatch(/--entra-tenant-id [0-9a-f-]{36} --client-id \S+ --cloud emulator/)
    const tenants = (await (await fetch(`${url}/_emulator/tenants`)).json()) as {
      data: { policies: number; seed: string }[]
    }
    expect(tenants.data).toEqual([expect.objectContaining({ seed: 's', policies: 40 })])
    child.removeAllListeners('exit')
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
  })

  it('exits non-zero on bad input', async () => {
    const write = process.stderr.write.bind(process.stderr)
    const errors: string[] = []
    process.stderr.write = (chunk: string) => errors.push(String(chunk)) > 0
    try {
      expect(await runEmulatorCommand(['--port', 'abc'])).toBe(2)
      expect(await runEmulatorCommand(['--policies', '2000001'])).toBe(2)
      expect(await runEmulatorCommand(['--nope'])).toBe(2)
    } finally {
      process.stderr.write = write
    }
    expect(errors).toHaveLength(3)
    expect(errors[0]).toBe('error: --port must be a port number (0-65535)\n')
    expect(errors[1]).toBe('error: --policies must be an integer from 0 to 2000000\n')
    expect(errors[2]).toMatch(/^error: Unknown option '--nope'/)
  })
})
