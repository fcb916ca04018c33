import type { FastifyRequest } from 'fastify'
import { validationError } from '../lib/errors.ts'

/** The path of the first string (or key) in a value that PostgreSQL cannot store: a NUL or a lone UTF-16 surrogate. */
export function unstorableTextAt(value: unknown, path: string): { field: string; message: string } | undefined {
  if (typeof value === 'string') {
    if (value.includes('\0')) return { field: path, message: 'must not contain a NUL character' }
    if (!value.isWellFormed()) return { field: path, message: 'must not contain an unpaired UTF-16 surrogate (not valid Unicode)' }
    return undefined
  }
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = unstorableTextAt(item, path ? `${path}.${i}` : String(i))
      if (found) return found
    }
    return undefined
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const field = path ? `${path}.${key}` : key
      const found = unstorableTextAt(key, field) ?? unstorableTextAt(item, field)
      if (found) return found
    }
  }
  return undefined
}

/** A 422 naming the field when the body, query or path holds text no column (or jsonb) can hold. */
export function unstorableTextError(request: FastifyRequest) {
  for (const part of [request.params, request.query, request.body]) {
    const found = unstorableTextAt(part, '')
    if (found) return validationError([{ field: found.field || 'body', message: found.message }])
  }
  return undefined
}
