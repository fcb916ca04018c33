import pino, { type DestinationStream, type Logger } from 'pino'

/**
 * Paths that must never reach a log line. Fastify's request serializer logs no headers or
 * bodies, so these guard against a future `log.info({ req })` or a careless child logger.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  '*.password',
  '*.client_secret',
  '*.clientSecret',
  '*.clientSecretEncrypted',
  '*.secret',
  '*.token',
  'password',
  'client_secret',
  'secret',
  'token',
]

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination)
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' }

/**
 * One JSON log line as a person reads it on a terminal (issue 24): "22:41:07 WARN  message
 * (key=value …)". Routine request lines (a request came in, a fast request succeeded) are left
 * out, so the sign-in line of the start banner does not scroll away under thousands of them;
 * slow and failed requests stay. Returns null for a line that is left out.
 */
export function terminalLine(json: string): string | null {
  let entry: Record<string, unknown>
  try {
    entry = JSON.parse(json) as Record<string, unknown>
  } catch {
    return json.trimEnd()
  }
  const { level, time, msg, pid: _pid, hostname: _host, reqId, req, res, responseTime, ...rest } = entry
  if (msg === 'incoming request') return null
  const status = (res as { statusCode?: number } | undefined)?.statusCode
  if (msg === 'request completed' && (status ?? 0) < 400 && Number(responseTime ?? 0) < 2000) return null
  const at = new Date(typeof time === 'number' ? time : Date.now()).toTimeString().slice(0, 8)
  const request = req as { method?: string; url?: string } | undefined
  const parts = [
    request?.method && request.url ? `${request.method} ${request.url}` : null,
    status ? `→ ${status}` : null,
    typeof responseTime === 'number' ? `${Math.round(responseTime)} ms` : null,
    ...Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`),
    typeof reqId === 'string' && status && status >= 400 ? `req=${reqId}` : null,
  ].filter(Boolean)
  return `${at} ${LEVELS[Number(level)] ?? String(level)} ${typeof msg === 'string' ? msg : JSON.stringify(msg ?? '')}${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`
}

/** A destination for a terminal: readable lines (`terminalLine`), written to `out`. */
export function terminalDestination(out: { write(text: string): unknown } = process.stdout): DestinationStream {
  return {
    write(chunk: string) {
      for (const json of chunk.split('\n')) {
        if (!json.trim()) continue
        const line = terminalLine(json)
        if (line !== null) out.write(`${line}\n`)
      }
    },
  }
}
