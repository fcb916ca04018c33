import { and, eq } from 'drizzle-orm'
import type { Logger } from 'pino'
import type { Database } from '../../db/engine.ts'
import { schedules, tenantMemberships, type ScheduleRow } from '../../db/schema.ts'
import type { Executor } from '../../db/engine.ts'
import { whyNot } from '../access/authority.ts'
import { storedScope } from '../access/token-scope.ts'
import type { Actor } from '../audit/record-audit-event.ts'
import type { OperationsEngine } from '../operations/engine.ts'
import { validatedInput } from '../operations/start-run.ts'
import { nextSlot } from './cron.ts'
import { claimDueSchedule } from './repository.ts'
import { loggableError } from '../../lib/unexpected-error.ts'

export type SchedulerOptions = {
  /** How often due schedules are looked for: a schedule fires within this much of its slot. */
  intervalMs: number
  /** Schedules fired side by side in this process (each in its own transaction). */
  concurrency: number
  /** The clock slots are compared with; tests bring a fake one. */
  now: () => Date
}

const DEFAULTS: SchedulerOptions = { intervalMs: 1_000, concurrency: 4, now: () => new Date() }
const SYSTEM: Actor = { kind: 'system' }

/**
 * Fires due schedules (ADR 013). Every worker runs one; each due schedule is claimed with
 * FOR UPDATE SKIP LOCKED, and in that one transaction its run is started (deduplicated like any
 * start, so a manual run of the same input already active is the schedule's run) and its next slot
 * is set to the first slot after now: a schedule missed during downtime fires once, not once per
 * missed slot. Scheduled runs are system runs attributed to the schedule, so they notify no one.
 */
export class Scheduler {
  readonly #db: Database
  readonly #engine: OperationsEngine
  readonly #log: Logger
  readonly #options: SchedulerOptions
  #timer: NodeJS.Timeout | undefined
  #ticking: Promise<number> | undefined

  constructor(db: Database, engine: OperationsEngine, logger: Logger, options: Partial<SchedulerOptions> = {}) {
    this.#db = db
    this.#engine = engine
    this.#log = logger.child({ component: 'scheduler' })
    this.#options = { ...DEFAULTS, ...options }
  }

  start() {
    this.#timer = setInterval(
      () =>
        void this.tick().catch((error: unknown) =>
          this.#log.error({ err: loggableError(error) }, 'scheduler pass failed'),
        ),
      this.#options.intervalMs,
    )
    this.#timer.unref()
  }

  /** Stops firing; a pass under way finishes first. */
  async stop() {
    clearInterval(this.#timer)
    await this.#ticking?.catch(() => {})
  }

  /** One pass: fires every schedule due at the clock's now; returns how many fired. A pass still running is joined, not doubled. */
  tick(): Promise<number> {
    this.#ticking ??= this.#pass().finally(() => (this.#ticking = undefined))
    return this.#ticking
  }

  async #pass(): Promise<number> {
    const now = this.#options.now()
    let fired = 0
    const lane = async () => {
      while (await this.#fireOne(now)) fired++
    }
    await Promise.all(Array.from({ length: this.#options.concurrency }, lane))
    return fired
  }

  /** Claims one due schedule and fires it; false when none is due. */
  async #fireOne(now: Date): Promise<boolean> {
    return this.#db.transaction(async (tx) => {
      const schedule = await claimDueSchedule(tx, now)
      if (!schedule) return false
      const next = nextSlot(schedule.cron, schedule.timezone, now)
      let lastRunId = schedule.lastRunId
      let blockedReason: string | null = null
      try {
        const { catalog } = this.#engine
        if (!catalog.has(schedule.operationType) || !catalog.spec(schedule.operationType).schedulable) {
          throw new Error(`"${schedule.operationType}" is not a schedulable operation type`)
        }
        const blocked = await this.#blocked(tx, schedule, catalog.spec(schedule.operationType).capability)
        if (blocked) {
          this.#log.warn({ schedule_id: schedule.id, reason: blocked }, 'schedule not allowed to start its run')
          await tx
            .update(schedules)
            .set({ nextRunAt: next, blockedReason: blocked })
            .where(eq(schedules.id, schedule.id))
          return true
        }
        const context = validatedInput(catalog, schedule.operationType, schedule.input)
        const started = await this.#engine.startRunIn(tx, {
          tenantId: schedule.tenantId,
          type: schedule.operationType,
          context,
          initiatorUserId: null,
          schedule: { id: schedule.id, name: schedule.name },
          actor: SYSTEM,
        })
        if (started) lastRunId = started.run.id
      } catch (error) {
        // A schedule whose type or input no longer fits skips its slot; the next one tries again.
        blockedReason = `its run could not start: ${(error as Error).message}`.slice(0, 500)
        this.#log.warn({ err: loggableError(error), schedule_id: schedule.id }, 'schedule could not start its run')
      }
      await tx.update(schedules).set({ nextRunAt: next, lastRunId, blockedReason }).where(eq(schedules.id, schedule.id))
      return true
    })
  }

  /**
   * The schedule fires with its creator's authority, checked now (ADR 022): the creator must
   * still be a member whose role allows the type's capability, within the scope they created it
   * with. Why not, for the schedule to show; null when it may fire.
   */
  async #blocked(
    tx: Executor,
    schedule: ScheduleRow,
    capability: Parameters<typeof whyNot>[2],
  ): Promise<string | null> {
    if (!schedule.createdBy) return 'its creator no longer exists: save the schedule again to fire it with your rights'
    const [membership] = await tx
      .select({ role: tenantMemberships.role })
      .from(tenantMemberships)
      .where(and(eq(tenantMemberships.tenantId, schedule.tenantId), eq(tenantMemberships.userId, schedule.createdBy)))
    const why = whyNot(membership?.role, storedScope(schedule.creatorScope), capability)
    return why && `Not started: ${why}`
  }
}
