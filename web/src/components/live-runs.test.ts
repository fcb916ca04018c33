import { describe, expect, it } from 'vitest'
import type { Page, Run } from '../lib/types.ts'
import { replaceRun } from './live-runs.tsx'

const run = (id: string, status: Run['status'] = 'running') => ({ id, status }) as Run

describe('replaceRun', () => {
  it('swaps the run in every page of a Monitoring list', () => {
    const cached = {
      pages: [
        { data: [run('a'), run('b')], next_cursor: 'x' },
        { data: [run('c')], next_cursor: null },
      ],
      pageParams: [undefined, 'x'],
    }
    const next = replaceRun(cached, run('c', 'completed'))
    expect(next.pages[1]!.data[0]!.status).toBe('completed')
    expect(next.pages[0]).toBe(cached.pages[0]) // untouched pages keep their identity
  })

  it('handles a plain page (the overview) and an empty cache', () => {
    const page: Page<Run> = { data: [run('a')], next_cursor: null }
    expect(replaceRun(page, run('a', 'completed')).data[0]!.status).toBe('completed')
    expect(replaceRun(undefined, run('a'))).toBeUndefined()
  })

  // Issue 24: "a live run consumer failed: Cannot read properties of undefined (reading 'some')".
  it("leaves other data cached under the same key prefix alone (a bulk run's undo state)", () => {
    const undoState = { run_id: 'b1', action: 'assign', undo: { available: true, reason: null } }
    expect(replaceRun(undoState as unknown as Page<Run>, run('b1', 'completed'))).toBe(undoState)
  })
})
