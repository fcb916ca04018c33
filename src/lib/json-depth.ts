import { AppError } from './errors.ts'

/**
 * Bounded nesting (issue 22, ADR 022). Every JSON request body is checked against this before it
 * is parsed or walked, so no code that walks a body (recursively or not) meets a deeper one.
 */
export const MAX_JSON_DEPTH = 64

/**
 * Whether JSON text nests objects and arrays deeper than `limit`, read character by character
 * (strings skipped, nothing parsed, no recursion): constant memory whatever the text.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return false
}

export const tooDeep = (what: string, limit: number) => {
  const message = `${what} nests objects and arrays more than ${limit} levels deep: at most ${limit} are accepted`
  return new AppError(422, 'too_deep', message)
}
