import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'

/**
 * Runs before `npm start` and `npm run test:e2e`: builds the web console (`vite build` → web/dist)
 * when web/dist is missing or older than any of its sources, so a fresh clone's
 * `npm install && npm start` serves the console without a separate build step.
 * Deployments that build ahead of time (`npm run build`) pay nothing here.
 */
const root = path.resolve(import.meta.dirname, '..')
const built = path.join(root, 'web/dist/index.html')
const sources = [
  path.join(root, 'web/src'),
  path.join(root, 'web/index.html'),
  path.join(root, 'vite.config.ts'),
  path.join(root, 'package-lock.json'),
]

function newest(file: string): number {
  if (!existsSync(file)) return 0
  const stat = statSync(file)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(file).map((name) => newest(path.join(file, name))))
}

const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0
if (builtAt > 0 && builtAt >= Math.max(...sources.map(newest))) process.exit(0)

const vite = path.join(root, 'node_modules/.bin/vite')
if (!existsSync(vite)) {
  if (builtAt > 0) process.exit(0) // production install without dev dependencies: serve what was built
  console.error('error: the web console is not built and vite is not installed: run `npm install` then `npm run build`')
  process.exit(1)
}
console.error(
  builtAt > 0 ? 'web console sources changed: rebuilding web/dist…' : 'building the web console (web/dist)…',
)
const result = spawnSync(vite, ['build', '--logLevel', 'warn'], { cwd: root, stdio: 'inherit' })
process.exit(result.status ?? 1)
