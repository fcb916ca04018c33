import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'

export type LockOwner = { pid: number; command: string; started_at: string }

export class DataDirLockedError extends Error {
  override name = 'DataDirLockedError'
  readonly owner: LockOwner
  constructor(dataDir: string, owner: LockOwner) {
    super(
      `Data directory ${dataDir} is in use by process ${owner.pid} (tenantatlas ${owner.command}, since ${owner.started_at}). ` +
        'Stop that process, or point DATA_DIR elsewhere, or use DATABASE_URL for more than one process.',
    )
    this.owner = owner
  }
}

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const lockPath = (dataDir: string) => path.join(dataDir, 'tenantatlas.lock')

/** The live owner of the data directory's lock, or null when it is free (a stale lock counts as free). */
export function readLockOwner(dataDir: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(lockPath(dataDir), 'utf8')) as LockOwner
    return typeof owner.pid === 'number' && owner.pid !== process.pid && isAlive(owner.pid) ? owner : null
  } catch {
    return null
  }
}

/**
 * PGlite has no lock on its data directory; two processes writing it would corrupt it.
 * The lock file names its owner so that the second process can say who holds it.
 * Returns the release function.
 */
export function acquireDataDirLock(dataDir: string, command: string): () => void {
  mkdirSync(dataDir, { recursive: true })
  const file = lockPath(dataDir)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600)
      const owner: LockOwner = { pid: process.pid, command, started_at: new Date().toISOString() }
      writeSync(fd, JSON.stringify(owner))
      closeSync(fd)
      return () => rmSync(file, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = readLockOwner(dataDir)
      if (owner) throw new DataDirLockedError(dataDir, owner)
      rmSync(file, { force: true }) // stale: its process is gone
    }
  }
  throw new Error(`Could not take the lock ${file}`)
}
