import type { Logger } from 'pino'
import type { DatabaseHandle } from '../db/engine.ts'
import { createListener, type Listener } from '../db/listen.ts'
import type { Catalog } from '../modules/operations/catalog.ts'
import { type EngineTimings, OperationsEngine } from '../modules/operations/engine.ts'
import { HandlerRegistry, type Handlers } from '../modules/operations/handlers.ts'
import { LiveHub } from '../modules/operations/live-hub.ts'
import { applyRetention, DEFAULT_RETENTION, type RetentionPolicy } from '../modules/operations/retention.ts'
import { Scheduler, type SchedulerOptions } from '../modules/schedules/scheduler.ts'
import { shippedCatalog, type ShippedHandlerDeps, shippedHandlers } from '../operation-types.ts'
import { BossQueue } from './boss-queue.ts'
import { loggableError } from '../lib/unexpected-error.ts'
import { AlertDispatcher, DISPATCHER_DEFAULTS, type DispatcherOptions } from '../modules/alerts/dispatcher.ts'

export type Operations = {
  engine: OperationsEngine
  hub: LiveHub
  listener: Listener
  scheduler: Scheduler | undefined
  alerts: AlertDispatcher | undefined
  stop(): Promise<void>
}

export type OperationsOptions<K extends string> = {
  handle: DatabaseHandle
  logger: Logger
  worker: boolean
  /** Tests bring their own types; the product runs the shipped catalog. */
  catalog?: Catalog<K> | undefined
  handlers?: Handlers<K> | undefined
  /** What the shipped handlers need; required unless `handlers` is given. */
  shipped?: ShippedHandlerDeps
  timings?: Partial<EngineTimings>
  concurrency?: number
  retention?: RetentionPolicy
  /** Worker processes fire schedules; `false` turns that off (tests that drive a scheduler by hand). */
  scheduler?: Partial<SchedulerOptions> | false
  /** Worker processes dispatch alerts when given where the console is and how to mail (ADR 030). */
  alerts?: (Partial<DispatcherOptions> & Pick<DispatcherOptions, 'consoleUrl' | 'mail'>) | undefined
}

/**
 * Wires the process's listener, pg-boss queue, engine, and live hub; one call for
 * `serve`, `worker` and tests. The run lifecycle is the operations module's; this is the adapter.
 */
export async function startOperations<K extends string>(options: OperationsOptions<K>): Promise<Operations> {
  const catalog = (options.catalog ?? shippedCatalog) as Catalog<K>
  const given = options.handlers ?? (options.shipped && (shippedHandlers(options.shipped) as unknown as Handlers<K>))
  if (!given)
    throw new Error("startOperations needs the shipped handlers' dependencies (shipped) or handlers of its own")
  const handlers = new HandlerRegistry<K>().register(given)
  const listener = createListener(options.handle, (error) =>
    options.logger.warn({ err: loggableError(error) }, 'live channel connection lost; reconnecting'),
  )
  const queue = new BossQueue(options.handle, options.logger.child({ component: 'jobs' }), {
    supervise: options.worker,
  })
  const engine = new OperationsEngine<K>({ ...options, db: options.handle.db, catalog, handlers, listener, queue })
  await engine.start()
  const hub = new LiveHub(options.handle.db, catalog)
  await hub.start(listener)
  let retentionTimer: NodeJS.Timeout | undefined
  let scheduler: Scheduler | undefined
  let alerts: AlertDispatcher | undefined
  if (options.worker) {
    const policy = options.retention ?? DEFAULT_RETENTION
    const prune = () =>
      applyRetention(options.handle.db, policy).then(
        (removed) =>
          removed && (removed.runs || removed.notifications) && options.logger.info({ removed }, 'retention applied'),
        (error: unknown) => options.logger.error({ err: loggableError(error) }, 'retention failed'),
      )
    retentionTimer = setInterval(() => void prune(), 60 * 60 * 1000)
    retentionTimer.unref()
    if (options.scheduler !== false) {
      scheduler = new Scheduler(options.handle.db, engine, options.logger, options.scheduler)
      scheduler.start()
    }
    if (options.alerts && options.shipped) {
      alerts = new AlertDispatcher(options.handle.db, options.shipped.secrets, options.logger, {
        ...DISPATCHER_DEFAULTS,
        ...options.alerts,
      })
      alerts.start()
    }
  }
  return {
    engine: engine as unknown as OperationsEngine,
    hub,
    listener,
    scheduler,
    alerts,
    stop: async () => {
      clearInterval(retentionTimer)
      await scheduler?.stop()
      await alerts?.stop()
      hub.stop()
      await engine.stop()
      await listener.close()
    },
  }
}
