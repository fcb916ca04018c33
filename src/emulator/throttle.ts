/**
 * Intune-like throttling: fixed windows per tenant and per app per tenant, reads and writes
 * counted apart. Only admitted requests count, so a client that backs off recovers as soon
 * as the window turns.
 */

export type Limits = {
  tenantReads: number
  appReads: number
  tenantWrites: number
  appWrites: number
  windowMs: number
}

export const INTUNE_LIMITS: Limits = {
  tenantReads: 2000,
  appReads: 1000,
  tenantWrites: 200,
  appWrites: 100,
  windowMs: 20_000,
}

type Window = { start: number; count: number }

export class Throttle {
  readonly #windows = new Map<string, Window>()

  /** Admits the request, or answers how long until the window that refused it turns. */
  admit(
    keys: { tenant: string; app: string },
    write: boolean,
    limits: Limits,
    now = Date.now(),
  ): { ok: true } | { ok: false; retryAfterMs: number } {
    const scopes: [string, number][] = write
      ? [
          [`w:${keys.tenant}:${keys.app}`, limits.appWrites],
          [`w:${keys.tenant}`, limits.tenantWrites],
        ]
      : [
          [`r:${keys.tenant}:${keys.app}`, limits.appReads],
          [`r:${keys.tenant}`, limits.tenantReads],
        ]
    const windows = scopes.map(([key, limit]) => {
      let w = this.#windows.get(key)
      if (!w || now - w.start >= limits.windowMs) this.#windows.set(key, (w = { start: now, count: 0 }))
      return { w, limit }
    })
    const full = windows.find(({ w, limit }) => w.count >= limit)
    if (full) return { ok: false, retryAfterMs: full.w.start + limits.windowMs - now }
    for (const { w } of windows) w.count++
    return { ok: true }
  }

  reset() {
    this.#windows.clear()
  }
}
