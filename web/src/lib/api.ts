/** The console's one way to the API: JSON in and out (or a FormData upload in), errors as ApiError, 401 → sign-in. */

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.details = details
  }
}

let onUnauthorized: (() => void) | undefined
let onStepUp: ((request: { method: string; path: string; body: unknown }, details: unknown) => void) | undefined

/** The app shell decides how to get a fresh sign-in when a destructive action needs one (features/auth/step-up.ts). */
export function setStepUpHandler(handler: typeof onStepUp) {
  onStepUp = handler
}

/** The app shell decides what a lost session means (clear caches, go to /login). */
export function setUnauthorizedHandler(handler: (() => void) | undefined) {
  onUnauthorized = handler
}

export function reportUnauthorized() {
  onUnauthorized?.()
}

type Options = {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  body?: unknown
  signal?: AbortSignal
  query?: Record<string, string | number | boolean | undefined | null>
}

export function withQuery(path: string, query: Options['query']): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

export async function api<T>(path: string, options: Options = {}): Promise<T> {
  const init: RequestInit = {
    method: options.method ?? 'GET',
    credentials: 'same-origin',
    signal: options.signal ?? null,
    headers: { accept: 'application/json' },
  }
  if (options.body instanceof FormData) {
    // A form (a file upload): the browser writes its multipart Content-Type with the boundary.
    init.body = options.body
  } else if (options.body !== undefined) {
    init.headers = { accept: 'application/json', 'content-type': 'application/json' }
    init.body = JSON.stringify(options.body)
  }
  const response = await fetch(withQuery(path, options.query), init)
  if (response.status === 204) return undefined as T
  const body: unknown = await response.json().catch(() => null)
  if (!response.ok) {
    const error = (body as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error
    // The sign-in form reports its own 401 (wrong password); everywhere else it means the session is gone.
    if (response.status === 401 && path !== '/api/auth/sign-in') reportUnauthorized()
    if (response.status === 403 && error?.code === 'step_up_required')
      onStepUp?.(
        { method: init.method ?? 'GET', path: withQuery(path, options.query), body: options.body },
        error.details,
      )
    throw new ApiError(
      response.status,
      error?.code ?? 'http_error',
      error?.message ?? `Request failed (${response.status})`,
      error?.details,
    )
  }
  return body as T
}

/** A readable message for any error a query or mutation may throw. */
export const errorMessage = (error: unknown): string =>
  error instanceof ApiError ? error.message : error instanceof Error ? error.message : 'Something went wrong'

/** Per-field messages from a 422 envelope (`details.fields: [{field, message}]`). */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {}
  const fields = (error.details as { fields?: unknown } | undefined)?.fields
  const out: Record<string, string> = {}
  if (!Array.isArray(fields)) return out
  for (const item of fields as { field?: unknown; message?: unknown }[]) {
    if (typeof item.field === 'string' && typeof item.message === 'string') out[item.field] = item.message
  }
  return out
}
