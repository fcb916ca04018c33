import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { acquireDataDirLock, DataDirLockedError, readLockOwner } from './lock.ts'

const dir = () => mkdtempSync(path.join(tmpdir(), 'ta-lock-'))

describe('data directory lock', () => {
  it('is exclusive while its owner lives, and names the owner', async () => {
    const dataDir = dir()
    // Another live process holds it.
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'])
    try {
      writeFileSync(path.join(dataDir, 'tenantatlas.lock'), JSON.stringify({ pid: holder.pid, command: 'serve', started_at: 'now' }))
      expect(readLockOwner(dataDir)?.pid).toBe(holder.pid)
      expect(() => acquireDataDirLock(dataDir, 'serve')).toThrow(DataDirLockedError)
      expect(() => acquireDataDirLock(dataDir, 'serve')).toThrow(new RegExp(`in use by process ${holder.pid}`))
    } finally {
      holder.kill()
      await new Promise((resolve) => holder.once('exit', resolve))
    }
    // Its owner is gone: the lock is stale and can be taken.
    const release = acquireDataDirLock(dataDir, 'serve')
    expect(JSON.parse(readFileSync(path.join(dataDir, 'tenantatlas.lock'), 'utf8'))).toMatchObject({ pid: process.pid, command: 'serve' })
    release()
    expect(readLockOwner(dataDir)).toBeNull()
  })
})
