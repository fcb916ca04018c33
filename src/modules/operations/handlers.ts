import type { Catalog } from './catalog.ts'
import type { RunExecution } from './run-execution.ts'

/** A job handler: does the run's work through the execution it is given. */
export type RunHandler = (run: RunExecution) => Promise<void>

/** One handler per catalog type, keyed by it: the compiler rejects a missing or unknown type. */
export type Handlers<K extends string> = { readonly [P in K]: RunHandler }

export class HandlerRegistry<K extends string> {
  readonly #handlers = new Map<string, RunHandler>()

  /** Registers the handlers a module exports; a type registered twice is refused. */
  register(handlers: Partial<Handlers<K>>): this {
    for (const [type, handler] of Object.entries<RunHandler | undefined>(handlers)) {
      if (!handler) continue
      if (this.#handlers.has(type)) throw new Error(`Operation type "${type}" has two handlers`)
      this.#handlers.set(type, handler)
    }
    return this
  }

  get(type: string): RunHandler | undefined {
    return this.#handlers.get(type)
  }

  registeredTypes(): string[] {
    return [...this.#handlers.keys()].sort()
  }

  /** The startup completeness check: the process refuses to start when code and catalog disagree. */
  assertMatches(catalog: Catalog<K>): void {
    const missing = catalog.types().filter((type) => !this.#handlers.has(type))
    const unknown = this.registeredTypes().filter((type) => !catalog.has(type))
    if (missing.length > 0) throw new Error(`Operation types without a handler: ${missing.join(', ')}`)
    if (unknown.length > 0) throw new Error(`Handlers for types that are not in the catalog: ${unknown.join(', ')}`)
  }
}
