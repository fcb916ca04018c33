import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod'
import { AppError, type FieldIssue } from '../lib/errors.ts'
import { loggableError } from '../lib/unexpected-error.ts'

type Envelope = { error: { code: string; message: string; details?: unknown } }

const envelope = (code: string, message: string, details?: unknown): Envelope => ({
  error: details === undefined ? { code, message } : { code, message, details },
})

// Fastify's own 4xx errors, with messages that do not echo the request back.
const fastifyClientErrors: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [400, 'invalid_json', 'The request body is not valid JSON'],
  FST_ERR_CTP_EMPTY_JSON_BODY: [
    400,
    'invalid_json',
    'The request body is empty but its content type is application/json',
  ],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'payload_too_large', 'The request body is too large'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [415, 'unsupported_media_type', 'Send the request body as application/json'],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'bad_request', 'Content-Length does not match the body'],
}

/** Maps every error to the error envelope of docs/api.md. Only a real fault is a 500, and it never carries a stack. */
export function registerErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    try {
      return mapError(error, request, reply)
    } catch (mappingError) {
      request.log.error({ err: mappingError }, 'error handler failed')
      return reply
        .code(500)
        .send(envelope('internal_error', `Something went wrong on our side (request ${request.id})`))
    }
  })

  function mapError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    if (error instanceof AppError) {
      if (error.status === 429) void reply.header('retry-after', '900')
      return reply.code(error.status).send(envelope(error.code, error.message, error.details))
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const where = error.validationContext ?? 'body'
      const fields: FieldIssue[] = error.validation.map((v) => {
        const unknownKeys = v.keyword === 'unrecognized_keys' ? (v.params as { keys?: string[] }).keys : undefined
        const path = v.instancePath.replace(/^\//, '').replaceAll('/', '.')
        if (unknownKeys)
          return { field: [path, unknownKeys.join(', ')].filter(Boolean).join('.'), message: 'is not a known field' }
        return { field: path || where, message: v.message ?? 'is invalid' }
      })
      const summary = fields.map((f) => `${f.field}: ${f.message}`).join('; ')
      return reply.code(422).send(envelope('validation_failed', `Invalid ${where}: ${summary}`, { in: where, fields }))
    }
    // Input checks come first (the request hook rejects NUL and lone surrogates, schemas and cursors
    // bound values); these are the database's own word, so a value that slipped past is still not a 500.
    const code: unknown = (error as { cause?: { code?: unknown } }).cause?.code ?? (error as { code?: unknown }).code
    const sqlState = typeof code === 'string' ? code : ''
    if (sqlState === '22021' || sqlState === '22P05') {
      return reply
        .code(422)
        .send(envelope('validation_failed', 'The request contains a character that cannot be stored (such as NUL)'))
    }
    // Class 22 (data exception): a value out of range or not of its type, e.g. a date PostgreSQL cannot hold.
    if (sqlState.startsWith('22'))
      return reply
        .code(422)
        .send(envelope('validation_failed', 'The request contains a value that cannot be stored or compared'))
    // A unique key taken by a concurrent request (the command's own check ran before the other committed).
    if (sqlState === '23505')
      return reply
        .code(409)
        .send(envelope('conflict', 'This conflicts with a change made at the same time: reload and try again'))
    const known = error.code ? fastifyClientErrors[error.code] : undefined
    if (known) return reply.code(known[0]).send(envelope(known[1], known[2]))
    if (!isResponseSerializationError(error) && error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      return reply.code(error.statusCode).send(envelope('bad_request', 'The request could not be processed'))
    }
    request.log.error({ err: loggableError(error) }, 'request failed')
    return reply.code(500).send(envelope('internal_error', `Something went wrong on our side (request ${request.id})`))
  }

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(envelope('not_found', `No route ${request.method} ${request.url.split('?')[0]}`)),
  )
}
