import { validationError } from './errors.ts'
import { UUID_PATTERN } from './ids.ts'

/** Keyset cursor: the sort key of the last row of a page, opaque to clients. */
export type Cursor = { at: string; id: string }

export const encodeCursor = (cursor: Cursor) => Buffer.from(JSON.stringify([cursor.at, cursor.id])).toString('base64url')

export function decodeCursor(value: string | undefined): Cursor | undefined {
  if (value === undefined || value === '') return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' && typeof parsed[1] === 'string' && UUID_PATTERN.test(parsed[1])) {
      // Normalised through Date, so the database never sees a timestamp it might reject.
      const at = new Date(parsed[0])
      if (!Number.isNaN(at.getTime())) return { at: at.toISOString(), id: parsed[1] }
    }
  } catch {
    // fall through to the validation error
  }
  throw validationError([{ field: 'cursor', message: 'is not a cursor this API returned' }])
}
