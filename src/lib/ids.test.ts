import { describe, expect, it } from 'vitest'
import { UUID_PATTERN, uuidv7 } from './ids.ts'

describe('uuidv7', () => {
  it('is a version 7, RFC 9562 variant UUID', () => {
    const id = uuidv7()
    expect(id).toMatch(UUID_PATTERN)
    expect(id[14]).toBe('7')
    expect('89ab').toContain(id[19])
  })

  it('sorts by creation time', () => {
    const early = uuidv7(1_700_000_000_000)
    const late = uuidv7(1_700_000_000_001)
    expect(early < late).toBe(true)
  })
})
