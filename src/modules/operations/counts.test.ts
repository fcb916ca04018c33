import { describe, expect, it } from 'vitest'
import { addCounts, CountsError, mergeCounts } from './counts.ts'

describe('summary_counts', () => {
  it('accepts allow-listed keys and growing values', () => {
    expect(mergeCounts({ total: 3, processed: 1 }, { processed: 2, created: 5 })).toEqual({
      total: 3,
      processed: 2,
      created: 5,
    })
    expect(addCounts({ processed: 1 }, { processed: 1, failed: 1 })).toEqual({ processed: 2, failed: 1 })
  })

  it.each([
    [{}, { colour: 1 }, /not in the allow-list/],
    [{ processed: 2 }, { processed: 1 }, /may only grow/],
    [{ total: 2 }, { processed: 3 }, /exceeds total/],
    [{}, { created: -1 }, /non-negative integer/],
    [{}, { created: 1.5 }, /non-negative integer/],
    [{ processed: 5 }, { total: 4 }, /exceeds total/],
  ])('refuses %j + %j', (current, next, message) => {
    expect(() => mergeCounts(current, next)).toThrow(CountsError)
    expect(() => mergeCounts(current, next)).toThrow(message)
  })
})
