import { describe, expect, it } from 'vitest'
import { AppError } from './errors.ts'
import { decodeCursor, encodeCursor } from './cursor.ts'

describe('keyset cursor', () => {
  it('round-trips', () => {
    const cursor = { at: '2026-01-01T00:00:00.123Z', id: '0195f3c2-0000-7000-8000-000000000000' }
    expect(decodeCursor(encodeCursor(cursor))).toEqual(cursor)
    expect(decodeCursor(undefined)).toBeUndefined()
  })

  it.each([
    'garbage',
    Buffer.from('[1,2]').toString('base64url'),
    Buffer.from('["not a date","x"]').toString('base64url'),
  ])('rejects %s as a 422 naming the cursor', (value) => {
    try {
      decodeCursor(value)
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(AppError)
      expect((error as AppError).status).toBe(422)
      expect((error as AppError).message).toContain('cursor')
    }
  })
})

describe('cursors with dates PostgreSQL cannot hold', () => {
  it('are refused naming the cursor', () => {
    for (const at of ['0000-01-01', '+275760-09-13T00:00:00.000Z', '-000001-01-01T00:00:00Z']) {
      const cursor = Buffer.from(JSON.stringify([at, '0195f3c2-0000-7000-8000-000000000000'])).toString('base64url')
      expect(() => decodeCursor(cursor)).toThrow(/cursor/)
    }
    expect(
      decodeCursor(encodeCursor({ at: '9999-12-31T00:00:00.000Z', id: '0195f3c2-0000-7000-8000-000000000000' }))?.at,
    ).toBe('9999-12-31T00:00:00.000Z')
  })
})
