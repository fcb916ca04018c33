import { randomUUID } from 'node:crypto'
import type { Database } from '../../src/db/engine.ts'
import {
  backupSets,
  inventoryChanges,
  inventoryItems,
  operationRuns,
  type ChangedBy,
  type RunFailure,
  type RunOutcome,
} from '../../src/db/schema.ts'
import { uuidv7 } from '../../src/lib/ids.ts'

const HOUR = 60 * 60 * 1000
export const hoursAgo = (h: number, now = Date.now()) => new Date(now - h * HOUR)

/** A completed inventory sync of a tenant, `hours` ago, as the engine leaves it. */
export async function seedSync(
  db: Database,
  tenantId: string,
  hours: number,
  outcome: RunOutcome,
  failures: RunFailure[] = [],
) {
  const at = hoursAgo(hours)
  const id = uuidv7()
  await db.insert(operationRuns).values({
    id,
    tenantId,
    type: 'inventory.sync',
    status: 'completed',
    outcome,
    identityKey: randomUUID(),
    context: {},
    failures,
    createdAt: at,
    queuedAt: at,
    startedAt: at,
    completedAt: at,
  })
  return id
}

export async function seedBackup(db: Database, tenantId: string, hours: number) {
  const id = uuidv7()
  await db
    .insert(backupSets)
    .values({ id, tenantId, name: 'Nightly', status: 'complete', origin: 'created', createdAt: hoursAgo(hours) })
  return id
}

/** An inventory item (and its payload) the overview or the assignment view reads. */
export async function seedItem(
  db: Database,
  tenantId: string,
  item: {
    policyType: string
    displayName: string
    externalId?: string
    payload?: Record<string, unknown>
    assignments?: Record<string, unknown>[]
  },
) {
  const id = uuidv7()
  const runId = uuidv7()
  await db.insert(inventoryItems).values({
    id,
    tenantId,
    policyType: item.policyType,
    externalId: item.externalId ?? randomUUID(),
    displayName: item.displayName,
    category: 'Configuration',
    platform: 'windows',
    payload: item.payload ?? {},
    assignments: item.assignments ?? [],
    contentHash: randomUUID(),
    firstSeenRunId: runId,
    lastSeenRunId: runId,
  })
  return id
}

export async function seedChange(
  db: Database,
  tenantId: string,
  itemId: string,
  hours: number,
  changedBy: ChangedBy | null,
) {
  await db.insert(inventoryChanges).values({
    id: uuidv7(),
    tenantId,
    itemId,
    policyType: 'deviceConfiguration',
    displayName: 'Changed',
    kind: 'updated',
    detectedAt: hoursAgo(hours),
    runId: uuidv7(),
    changedBy,
  })
}
