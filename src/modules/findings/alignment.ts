import { z } from 'zod'
import type { Executor } from '../../db/engine.ts'
import { unreadableTypes } from '../baselines/evaluate.ts'
import { currentEntries, tenantAssignments } from '../baselines/repository.ts'
import { findingCounts } from './repository.ts'

export const alignmentResponse = z
  .object({
    baseline_id: z.string(),
    baseline_name: z.string(),
    enabled: z.boolean(),
    entries: z.number(),
    aligned: z.number(),
    deviating: z.number(),
    excepted: z.number(),
    unknown: z.number(),
    score: z
      .number()
      .nullable()
      .describe('Aligned and excepted entries per hundred judged ones: unknowns never lower it'),
    coverage: z.number().describe('Judged entries per hundred: what unknowns lower'),
  })
  .meta({ id: 'Alignment' })

export type Alignment = z.infer<typeof alignmentResponse>

/**
 * Per baseline assigned to the tenant, each entry counted once: unknown (its type could not be read),
 * deviating (an open or acknowledged finding), excepted (only excepted findings), else aligned.
 */
export async function alignmentOf(db: Executor, tenantId: string): Promise<Alignment[]> {
  const assignments = await tenantAssignments(db, tenantId, { enabledOnly: false })
  if (assignments.length === 0) return []
  const unreadable = await unreadableTypes(db, tenantId)
  const counts = await findingCounts(db, [tenantId])
  const out: Alignment[] = []
  for (const { assignment, baseline } of assignments) {
    const entries = await currentEntries(db, baseline.id)
    const mine = counts.filter((c) => c.baselineId === baseline.id)
    let aligned = 0
    let deviating = 0
    let excepted = 0
    let unknown = 0
    for (const entry of entries) {
      const of = mine.filter((c) => c.entryId === entry.id)
      if (unreadable(entry.policyType) || of.some((c) => c.unknown)) unknown++
      else if (of.some((c) => c.state === 'open' || c.state === 'acknowledged')) deviating++
      else if (of.some((c) => c.state === 'excepted')) excepted++
      else aligned++
    }
    const judged = entries.length - unknown
    out.push({
      baseline_id: baseline.id,
      baseline_name: baseline.name,
      enabled: assignment.enabled,
      entries: entries.length,
      aligned,
      deviating,
      excepted,
      unknown,
      score: judged === 0 ? null : Math.round(((aligned + excepted) / judged) * 1000) / 10,
      coverage: entries.length === 0 ? 100 : Math.round((judged / entries.length) * 1000) / 10,
    })
  }
  return out
}
