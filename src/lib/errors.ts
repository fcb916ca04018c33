/**
 * Errors that carry their HTTP meaning. Commands throw these; the HTTP layer maps
 * them to the error envelope of docs/api.md and the CLI prints their message on one line.
 */
export class AppError extends Error {
  readonly status: number
  readonly code: string
  readonly details: unknown

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message)
    this.name = 'AppError'
    this.status = status
    this.code = code
    this.details = details
  }
}

export type FieldIssue = { field: string; message: string }

export const validationError = (issues: FieldIssue[]) =>
  new AppError(422, 'validation_failed', issues.map((i) => `${i.field}: ${i.message}`).join('; '), { fields: issues })

export const notFound = (what = 'Resource') => new AppError(404, 'not_found', `${what} not found or no access`)

export const unauthenticated = (message = 'Sign in or send a valid API token') =>
  new AppError(401, 'unauthenticated', message)

export const forbidden = (message = 'You are not allowed to do this') => new AppError(403, 'forbidden', message)

export const conflict = (message: string) => new AppError(409, 'conflict', message)
