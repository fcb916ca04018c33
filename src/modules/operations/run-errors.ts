/** Thrown by throwIfCancelled(): the handler stops, the run ends `cancelled`. */
export class RunCancelledError extends Error {
  override name = 'RunCancelledError'
  constructor() {
    super('The run was cancelled')
  }
}

/** This worker no longer owns the run (it was re-queued or finished elsewhere): stop, write nothing. */
export class RunOwnershipLostError extends Error {
  override name = 'RunOwnershipLostError'
  constructor(runId: string, attempt: number) {
    super(`Run ${runId} attempt ${attempt} is no longer owned by this worker`)
  }
}

/** An error a handler throws on purpose, with the failure code to record. */
export class RunFailureError extends Error {
  override name = 'RunFailureError'
  readonly code: string
  readonly subject: string | null
  constructor(code: string, message: string, subject: string | null = null) {
    super(message)
    this.code = code
    this.subject = subject
  }
}
