import { describe, expect, it } from 'vitest'
import { AppError } from './errors.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'

describe('keyset cursor', () => {
  it('round-trips', () => {
    const cursor = { at: '2026-01-01T00:00:00.123Z', id: '0195f3c2-0000-7000-8000-000000000000' }
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor)
    expect(decodeCursor(undefined)).toBeUndefined()
  })

  it.each(['garbage', Buffer.from('[1,2]').toString('base64url'), Buffer.from('["not a date","x"]').toString('base64url')])(
    'rejects %s as a 422 naming the cursor',
    (value) => {
      try {
        decodeCursor(value)
        expect.unreachable()
      } catch (error) {
        expect(error).toBeInstanceOf(AppError)
        expect((error as AppError).status).toBe(422)
        expect((error as AppError).message).toContain('cursor')
      }
    },
  )
})
