import type { EmulatedTenant } from './emulated-tenant.ts'
import { INTUNE_LIMITS, Throttle, type Limits } from './throttle.ts'
import { TokenSigner } from './tokens.ts'

/** Faults the control API can inject: `PUT /_emulator/faults`. */
export type Faults = {
  latency_ms: number
  jitter_ms: number
  /** Share of Graph requests answered 503. */
  error_rate: number
  /** Graph paths (substrings) answered 503 every time: a part of Graph that is down. */
  unavailable_paths: string[]
  /** Share of Graph requests answered 429 at random, whatever the rate (on top of the real limits). */
  throttle_rate: number
  /** Multiplies Intune's request limits (0.01 → 20 reads per app per window). */
  throttle_scale: number
  /** Answer 429 without Retry-After, as Intune sometimes does. */
  omit_retry_after: boolean
  /** The throttling window; Intune's is 20 s, tests shorten it. */
  throttle_window_ms: number
  /** Share of applied writes (2xx) whose response is lost: the connection is destroyed instead. */
  drop_response_rate: number
}

export const DEFAULT_FAULTS: Faults = {
  latency_ms: 0,
  jitter_ms: 0,
  error_rate: 0,
  unavailable_paths: [],
  throttle_rate: 0,
  throttle_scale: 1,
  omit_retry_after: false,
  throttle_window_ms: INTUNE_LIMITS.windowMs,
  drop_response_rate: 0,
}

export type PathKind =
  'token' | 'discovery' | 'list' | 'object' | 'subresource' | 'group' | 'batch' | 'write' | 'control' | 'other'

export class Stats {
  requests = 0
  graphRequests = 0
  throttled = 0
  /** Responses lost on purpose (`drop_response_rate`): writes applied whose answer never came. */
  dropped = 0
  tokensIssued = 0
  byKind = new Map<string, number>()
  byStatus = new Map<string, number>()
  since = new Date()

  /** One HTTP request, or one `$batch` member (`member`: counted as a Graph request, not an HTTP one). */
  record(kind: PathKind, status: number, options: { member?: boolean; graph?: boolean } = {}) {
    if (!options.member) this.requests++
    if (options.graph) this.graphRequests++
    if (status === 429) this.throttled++
    this.byKind.set(kind, (this.byKind.get(kind) ?? 0) + 1)
    this.byStatus.set(String(status), (this.byStatus.get(String(status)) ?? 0) + 1)
  }

  toJSON() {
    return {
      requests: this.requests,
      graph_requests: this.graphRequests,
      throttled: this.throttled,
      dropped: this.dropped,
      tokens_issued: this.tokensIssued,
      by_kind: Object.fromEntries(this.byKind),
      by_status: Object.fromEntries(this.byStatus),
      since: this.since.toISOString(),
    }
  }
}

/** Everything one emulator process holds. */
export class EmulatorState {
  readonly tenants = new Map<string, EmulatedTenant>()
  readonly throttle = new Throttle()
  readonly signer = new TokenSigner()
  faults: Faults = { ...DEFAULT_FAULTS }
  stats = new Stats()

  limits(): Limits {
    const scale = (n: number) => Math.max(1, Math.round(n * this.faults.throttle_scale))
    return {
      tenantReads: scale(INTUNE_LIMITS.tenantReads),
      appReads: scale(INTUNE_LIMITS.appReads),
      tenantWrites: scale(INTUNE_LIMITS.tenantWrites),
      appWrites: scale(INTUNE_LIMITS.appWrites),
      windowMs: this.faults.throttle_window_ms,
    }
  }
}
