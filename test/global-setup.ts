import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import {
  clusterPaths,
  connectionString,
  initCluster,
  startCluster,
  stopCluster,
  TEST_SETTINGS,
} from '../src/db/cluster.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The server every test file creates its own database on (`postgres` database of it). */
    testServerUrl: string
  }
}

/**
 * One PostgreSQL for the whole test run: TEST_DATABASE_URL when set, else an embedded cluster
 * started here in a temporary directory (durability off) and removed at the end.
 */
export default async function setup(project: TestProject) {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('testServerUrl', process.env.TEST_DATABASE_URL)
    return
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'ta-test-'))
  const paths = clusterPaths(dir)
  await initCluster(paths, { settings: TEST_SETTINGS })
  await startCluster(paths)
  project.provide('testServerUrl', connectionString(paths, 'postgres'))
  return async () => {
    await stopCluster(paths)
    rmSync(dir, { recursive: true, force: true })
  }
}
