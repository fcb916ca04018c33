import { ConfigError } from './config.ts'

async function readAll(stream: NodeJS.ReadStream): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of stream) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Reads a line at an interactive prompt without echoing it. */
function prompt(label: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(`${label}: `)
  stdin.setRawMode(true)
  stdin.resume()
  return new Promise((resolve, reject) => {
    let value = ''
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n') return finish(() => resolve(value))
        if (char === '\u0003') return finish(() => reject(new ConfigError('cancelled')))
        if (char === '\u007f') value = value.slice(0, -1)
        else value += char
      }
    }
    const finish = (done: () => void) => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
      done()
    }
    stdin.on('data', onData)
  })
}

/**
 * A password or client secret: from the environment variable, else from stdin (piped, or typed
 * at a prompt). Never from argv, where every user of the machine can read it in `ps`.
 */
export async function readSecret(envName: string, label: string): Promise<string> {
  const fromEnv = process.env[envName]
  const value =
    fromEnv ?? (process.stdin.isTTY ? await prompt(label) : (await readAll(process.stdin)).replace(/\r?\n$/, ''))
  if (!value) throw new ConfigError(`${label} missing: set ${envName} or pass it on stdin`)
  return value
}
