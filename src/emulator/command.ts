import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import { startEmulator } from './server.ts'

/**
 * `tenantatlas emulator [--port N] [--seed S] [--policies N]`: runs the emulator until
 * SIGTERM or SIGINT. With --seed or --policies it also creates one demo tenant and prints
 * the credentials to connect it (they are emulator credentials, valid only in this process).
 */
export async function runEmulatorCommand(args: string[]): Promise<number> {
  let values: { port?: string; seed?: string; policies?: string; host?: string }
  try {
    values = parseArgs({
      args,
      options: {
        port: { type: 'string' },
        seed: { type: 'string' },
        policies: { type: 'string' },
        host: { type: 'string' },
      },
      strict: true,
    }).values
  } catch (error) {
    process.stderr.write(`error: ${(error as Error).message.split('\n')[0]}\n`)
    return 2
  }
  const port = values.port === undefined ? 4010 : Number(values.port)
  if (!Number.isInteger(port) || port < 0 || port > 65_535) {
    process.stderr.write('error: --port must be a port number (0-65535)\n')
    return 2
  }
  const policies = values.policies === undefined ? undefined : Number(values.policies)
  if (policies !== undefined && (!Number.isInteger(policies) || policies < 0 || policies > 2_000_000)) {
    process.stderr.write('error: --policies must be an integer from 0 to 2000000\n')
    return 2
  }
  let emulator
  try {
    emulator = await startEmulator({ port, host: values.host ?? '127.0.0.1' })
  } catch (error) {
    process.stderr.write(`error: the emulator cannot listen on port ${port}: ${(error as Error).message}\n`)
    return 1
  }
  const lines = [`Graph emulator running at ${emulator.url}`]
  if (values.seed !== undefined || policies !== undefined) {
    const secret = randomBytes(18).toString('base64url')
    const tenant = emulator.addTenant({
      seed: values.seed ?? '1',
      policies: policies ?? 200,
      client_id: '00000000-0000-4000-8000-00000000a11a',
      client_secret: secret,
    })
    lines.push(
      `demo tenant: --entra-tenant-id ${tenant.tenant_id} --client-id ${tenant.client_id} --cloud emulator (client secret: ${secret})`,
    )
  }
  lines.push(emulator.url)
  process.stdout.write(`${lines.join('\n')}\n`)
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve)
    process.once('SIGINT', resolve)
  })
  await emulator.close()
  return 0
}
