import type { FastifyRequest } from 'fastify'
import { validationError } from '../lib/errors.ts'

/** A value JSON.parse makes for an object: not a stream, a buffer or anything else a content parser may hand over. */
const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

const join = (path: string, key: string | number) => (path ? `${path}.${key}` : String(key))

/**
 * The path of the first string (or key) in a value that PostgreSQL cannot store: a NUL or a lone
 * UTF-16 surrogate. Iterative (no recursion, whatever the depth), and it walks only plain JSON
 * values: a raw upload's stream is the route's to read, never walked here.
 */
export function unstorableTextAt(value: unknown, path: string): { field: string; message: string } | undefined {
  const stack: [unknown, string][] = [[value, path]]
  while (stack.length > 0) {
    const [current, at] = stack.pop()!
    if (typeof current === 'string') {
      if (current.includes('\0')) return { field: at, message: 'must not contain a NUL character' }
      if (!current.isWellFormed()) {
        return { field: at, message: 'must not contain an unpaired UTF-16 surrogate (not valid Unicode)' }
      }
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push([current[i], join(at, i)])
    } else if (isPlainObject(current)) {
      // Pushed in reverse, so keys and values are checked in document order, each key before its value.
      const entries = Object.entries(current)
      for (let i = entries.length - 1; i >= 0; i--) {
        const [key, item] = entries[i]!
        stack.push([item, join(at, key)], [key, join(at, key)])
      }
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
