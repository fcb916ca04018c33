import { validationError } from './errors.ts'
import { storableDate } from './time.ts'
import { UUID_PATTERN } from './ids.ts'

/** Keyset cursor: the sort key of the last row of a page (a value, then the row id), opaque to clients. */
export type Cursor = { at: string; id: string }

const encodePair = (key: string, id: string) => Buffer.from(JSON.stringify([key, id])).toString('base64url')

/** Decodes a pair cursor; `key` normalises the first value or returns undefined when it is not one. */
function decodePair<K>(
  value: string | undefined,
  key: (raw: string) => K | undefined,
): { key: K; id: string } | undefined {
  if (value === undefined || value === '') return undefined
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'))
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      typeof parsed[0] === 'string' &&
      !parsed[0].includes('\0') &&
      typeof parsed[1] === 'string' &&
      UUID_PATTERN.test(parsed[1])
    ) {
      const k = key(parsed[0])
      if (k !== undefined) return { key: k, id: parsed[1] }
    }
  } catch {
    // fall through to the validation error
  }
  throw validationError([{ field: 'cursor', message: 'is not a cursor this API returned' }])
}

/** A cursor on (timestamp, id). */
export const encodeCursor = (cursor: Cursor) => encodePair(cursor.at, cursor.id)

export function decodeCursor(value: string | undefined): Cursor | undefined {
  // Normalised through Date, so the database never sees a timestamp it might reject.
  const decoded = decodePair(value, (raw) => storableDate(raw)?.toISOString())
  return decoded && { at: decoded.key, id: decoded.id }
}

/** A cursor on (text, id), e.g. display name then id. */
export type TextCursor = { text: string; id: string }

export const encodeTextCursor = (cursor: TextCursor) => encodePair(cursor.text, cursor.id)

export function decodeTextCursor(value: string | undefined): TextCursor | undefined {
  const decoded = decodePair(value, (raw) => raw)
  return decoded && { text: decoded.key, id: decoded.id }
}
