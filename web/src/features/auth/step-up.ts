import { api, ApiError } from '../../lib/api.ts'

/**
 * Fresh sign-in for destructive actions (ADR 028): when the server answers 403 `step_up_required`,
 * the request is kept in this tab's sessionStorage, the person signs in again (with Microsoft:
 * `max_age` or the authentication context; with a password: the sign-in page), and on return the
 * console sends the kept request once, so the action they confirmed goes ahead.
 */

const KEY = 'tenantatlas.step-up'
const RESUME_WITHIN_MS = 10 * 60_000

export type PendingAction = {
  method: 'POST' | 'PATCH' | 'DELETE'
  path: string
  body?: unknown
  at: number
  page: string
}

export const isStepUp = (error: unknown): error is ApiError =>
  error instanceof ApiError && error.status === 403 && error.code === 'step_up_required'

/** Where to sign in again, given the 403's details and the page to come back to. */
export function stepUpUrl(details: unknown, page: string): string {
  const how = (details as { sign_in?: unknown } | undefined)?.sign_in
  if (how === 'microsoft')
    return `/api/auth/oidc/start?${new URLSearchParams({ step_up: 'true', return_to: page }).toString()}`
  return `/login?${new URLSearchParams({ next: page, step_up: '1' }).toString()}`
}

export function keepForResume(action: Omit<PendingAction, 'at'>, storage: Storage = sessionStorage) {
  storage.setItem(KEY, JSON.stringify({ ...action, at: Date.now() }))
}

/** The kept action, once (it is removed), when it is recent and belongs to this page. */
export function takePending(page: string, storage: Storage = sessionStorage, now = Date.now()): PendingAction | null {
  const raw = storage.getItem(KEY)
  if (!raw) return null
  storage.removeItem(KEY)
  try {
    const action = JSON.parse(raw) as PendingAction
    return now - action.at <= RESUME_WITHIN_MS && action.page === page ? action : null
  } catch {
    return null
  }
}

/** Sends the kept action of this page again (after the fresh sign-in); its answer, or null when none was kept. */
export async function resumePending(page: string): Promise<{ action: PendingAction; result: unknown } | null> {
  const action = takePending(page)
  if (!action) return null
  const result = await api<unknown>(action.path, { method: action.method, body: action.body })
  return { action, result }
}
