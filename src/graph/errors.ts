/**
 * Every failure of the Graph layer is a GraphError with a code the inventory sync records
 * as a run failure. Messages say what to do and never contain a secret or a token.
 */

export const GRAPH_ERROR_CODES = [
  'missing_permission',
  'not_found',
  'throttled_exhausted',
  'graph_unavailable',
  'invalid_credentials',
  'tenant_not_found',
  'app_not_found',
  'bad_request',
  /** A write whose answer never came (lost response, timeout, 5xx): applied or not, only Graph can tell. */
  'write_unknown',
] as const
export type GraphErrorCode = (typeof GRAPH_ERROR_CODES)[number]

export class GraphError extends Error {
  readonly code: GraphErrorCode
  readonly status: number | undefined
  /** For missing_permission: the application permission to grant. */
  readonly permission: string | undefined
  /** Graph's request-id, for Microsoft support. */
  readonly requestId: string | undefined

  constructor(
    code: GraphErrorCode,
    message: string,
    extra: { status?: number; permission?: string; requestId?: string; cause?: unknown } = {},
  ) {
    super(message, extra.cause === undefined ? undefined : { cause: extra.cause })
    this.name = 'GraphError'
    this.code = code
    this.status = extra.status
    this.permission = extra.permission
    this.requestId = extra.requestId
  }
}

export const isGraphError = (error: unknown, code?: GraphErrorCode): error is GraphError =>
  error instanceof GraphError && (code === undefined || error.code === code)
