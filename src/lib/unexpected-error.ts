/**
 * What a run records, and what the worker logs, for an error nobody threw on purpose. A
 * database error's message carries its query and parameters (Drizzle: "Failed query: … params:
 * …"), and PostgreSQL's own message can repeat a parameter ('invalid input syntax for type
 * integer: "…"'): a parameter may be a secret, and a run's failures are shown to every member of
 * the tenant. So the run says what went wrong (a database error, its SQLSTATE and condition, the
 * constraint) and where the rest is; the log gets the query text, the database's fields and the
 * stack, with every parameter value masked.
 */

type Fields = Record<string, unknown>

/** Conditions a run's failure names by SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html). */
const CONDITIONS: Readonly<Record<string, string>> = {
  '23505': 'unique_violation',
  '23503': 'foreign_key_violation',
  '23502': 'not_null_violation',
  '23514': 'check_violation',
  '22P02': 'invalid_text_representation',
  '22001': 'string_data_right_truncation',
  '22003': 'numeric_value_out_of_range',
  '40001': 'serialization_failure',
  '40P01': 'deadlock_detected',
  '42P01': 'undefined_table',
  '42703': 'undefined_column',
  '53300': 'too_many_connections',
  '54000': 'program_limit_exceeded',
  '57014': 'query_canceled',
  '57P01': 'admin_shutdown',
  '08006': 'connection_failure',
}
const SQLSTATE = /^[0-9A-Z]{5}$/
/** The database's own fields worth a log line (detail is left out: it repeats row values). */
const DATABASE_FIELDS = [
  'code',
  'severity',
  'constraint',
  'table',
  'column',
  'schema',
  'dataType',
  'routine',
  'position',
  'hint',
  'where',
] as const

const isObject = (value: unknown): value is Fields => typeof value === 'object' && value !== null

/** The error and its causes, outermost first (bounded: a cause chain can loop). */
function chain(error: unknown): Fields[] {
  const out: Fields[] = []
  for (let e: unknown = error; isObject(e) && out.length < 8 && !out.includes(e); e = e.cause) out.push(e)
  return out
}

type DatabaseFailure = { query: string | null; params: unknown[]; code: string | null; constraint: string | null }

/** The database side of an error, or null when no database was involved. */
function databaseFailure(error: unknown): DatabaseFailure | null {
  const links = chain(error)
  const withQuery = links.find((e) => typeof e.query === 'string')
  const withCode = links.find(
    (e) =>
      typeof e.code === 'string' &&
      SQLSTATE.test(e.code) &&
      ('severity' in e || 'routine' in e || withQuery !== undefined),
  )
  const mentionsQuery = links.some((e) => typeof e.message === 'string' && e.message.includes('Failed query:'))
  if (!withQuery && !withCode && !mentionsQuery) return null
  return {
    query: typeof withQuery?.query === 'string' ? withQuery.query : null,
    params: Array.isArray(withQuery?.params) ? (withQuery.params as unknown[]) : [],
    code: typeof withCode?.code === 'string' ? withCode.code : null,
    constraint: typeof withCode?.constraint === 'string' ? withCode.constraint : null,
  }
}

/** The message a run's failure carries: the error's own, unless it came from the database. */
export function unexpectedFailureMessage(error: unknown, runId: string): string {
  const db = databaseFailure(error)
  if (!db) return error instanceof Error && error.message !== '' ? error.message.slice(0, 1000) : 'The operation failed'
  const condition = db.code
    ? ` (SQLSTATE ${db.code}${CONDITIONS[db.code] ? ` ${CONDITIONS[db.code]}` : ''}${db.constraint ? `, constraint ${db.constraint}` : ''})`
    : ''
  return `A database error stopped the operation${condition}; the worker's log has the full error for run ${runId}.`
}

/** Text with every parameter value (of four characters or more) replaced: the log must not carry one. */
function masked(text: string, params: readonly unknown[]): string {
  let out = text
  for (const p of params) {
    const value =
      typeof p === 'string'
        ? p
        : typeof p === 'number' || typeof p === 'bigint'
          ? String(p)
          : isObject(p)
            ? JSON.stringify(p)
            : null
    if (value && value.length >= 4) out = out.split(value).join('[parameter]')
  }
  return out
}

/**
 * The error as a log line may show it (`log.error({ err: loggableError(e) }, …)`): a database
 * error with its query text, SQLSTATE and fields and the stack, its parameters counted, never
 * shown; any other error as it is.
 */
export function loggableError(error: unknown): unknown {
  const db = databaseFailure(error)
  if (!db) return error
  const links = chain(error)
  const outer = links[0]!
  const describe = (e: Fields): Fields => {
    const out: Fields = { type: typeof e.name === 'string' ? e.name : 'Error' }
    const message = typeof e.message === 'string' ? e.message : ''
    // Drizzle's message is the query and its parameters: only the query is logged.
    const safeMessage = typeof e.query === 'string' ? `Failed query: ${e.query}` : masked(message, db.params)
    out.message = safeMessage
    for (const field of DATABASE_FIELDS)
      if (e[field] !== undefined && e[field] !== null)
        out[field] = typeof e[field] === 'string' ? masked(e[field], db.params) : e[field]
    if (typeof e.stack === 'string')
      out.stack = masked(message ? e.stack.replace(message, safeMessage) : e.stack, db.params)
    return out
  }
  return {
    ...describe(outer),
    ...(db.params.length > 0
      ? { params: `${db.params.length} parameter${db.params.length === 1 ? '' : 's'}, not logged` }
      : {}),
    causes: links.slice(1).map(describe),
  }
}
