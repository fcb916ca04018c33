import { describe, expect, it } from 'vitest'
import { phaseOf, progressOf, sortActive } from './progress.ts'
import type { Run } from './types.ts'

describe('progressOf', () => {
  it('is determinate with processed / total and a percentage when the total is known', () => {
    expect(progressOf({ total: 200, processed: 50 })).toEqual({
      determinate: true,
      processed: 50,
      total: 200,
      percent: 25,
      label: '50 / 200',
    })
  })

  it('is indeterminate while the total is unknown or zero', () => {
    expect(progressOf({})).toEqual({ determinate: false, processed: null, label: null })
    expect(progressOf({ total: 0, processed: 0 })).toMatchObject({ determinate: false })
    expect(progressOf({ processed: 1234 })).toEqual({ determinate: false, processed: 1234, label: '1,234 processed' })
  })

  it('never shows more than 100 % or a negative bar', () => {
    expect(progressOf({ total: 10, processed: 15 })).toMatchObject({ processed: 10, percent: 100, label: '10 / 10' })
    expect(progressOf({ total: 10, processed: -3 })).toMatchObject({ processed: 0, percent: 0 })
  })

  it('rounds the percentage down so 100 % means done', () => {
    expect(progressOf({ total: 3, processed: 2 })).toMatchObject({ percent: 66 })
    expect(progressOf({ total: 1000, processed: 999 })).toMatchObject({ percent: 99 })
  })

  it('ignores counts that are not finite numbers', () => {
    expect(progressOf({ total: Number.NaN, processed: 3 })).toMatchObject({ determinate: false, processed: 3 })
  })
})

describe('sortActive', () => {
  it('lists the oldest run first', () => {
    const run = (id: string, created_at: string) => ({ id, created_at }) as Run
    expect(sortActive([run('b', '2026-01-02T00:00:00Z'), run('a', '2026-01-01T00:00:00Z')]).map((r) => r.id)).toEqual([
      'a',
      'b',
    ])
  })
})

describe('phaseOf', () => {
  it('says starting before the first count and finishing when every unit is counted but the run goes on', () => {
    expect(phaseOf({ status: 'queued', summary_counts: {} })).toBe('queued')
    expect(phaseOf({ status: 'running', summary_counts: { total: 6, processed: 0 } })).toBe('starting')
    expect(phaseOf({ status: 'running', summary_counts: {} })).toBe('starting')
    expect(phaseOf({ status: 'running', summary_counts: { total: 6, processed: 3 } })).toBe('running')
    expect(phaseOf({ status: 'running', summary_counts: { total: 6, processed: 6 } })).toBe('finishing')
    expect(phaseOf({ status: 'running', summary_counts: { processed: 40 } })).toBe('running')
  })
})
