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
