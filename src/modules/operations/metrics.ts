import { sql } from 'drizzle-orm'
import type { Executor } from '../../db/engine.ts'

/** Completed runs by type and outcome (those within retention): `GET /metrics`. */
export async function runsByOutcome(db: Executor) {
  const { rows } = await db.execute<{ type: string; outcome: string; n: number }>(sql`
    SELECT type, outcome, count(*)::int AS n FROM operation_runs WHERE status = 'completed' AND outcome IS NOT NULL
    GROUP BY type, outcome`)
  return rows
}

/** Queued runs per type, and how long the oldest has waited (seconds). */
export async function runQueue(db: Executor) {
  const { rows } = await db.execute<{ type: string; depth: number; oldest: number }>(sql`
    SELECT type, count(*)::int AS depth, COALESCE(EXTRACT(EPOCH FROM now() - min(created_at)), 0)::float8 AS oldest
    FROM operation_runs WHERE status = 'queued' GROUP BY type`)
  return rows
}
