import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/**
 * The last step of every generator script: writes `generated` to `file`, or with `--check` (CI) exits 1
 * when the committed file differs from it (a missing file counts as stale), naming `command` as the fix.
 */
export function writeOrCheck(file: string, generated: string, command: string) {
  const shown = path.relative(process.cwd(), file)
  if (!process.argv.includes('--check')) {
    writeFileSync(file, generated)
    console.log(`wrote ${shown}`)
    return
  }
  let current = ''
  try {
    current = readFileSync(file, 'utf8')
  } catch {
    // missing counts as stale
  }
  if (current !== generated) {
    console.error(`${shown} is stale: run \`${command}\` and commit the result`)
    process.exit(1)
  }
  console.log(`${shown} is up to date`)
}
