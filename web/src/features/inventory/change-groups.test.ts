import { describe, expect, it } from 'vitest'
import type { InventoryChange } from '../../lib/types.ts'
import { feedRows } from './change-groups.ts'

const change = (id: string, patch: Partial<InventoryChange> = {}): InventoryChange => ({
  id,
  item_id: `i${id}`,
  policy_type: 'deviceConfiguration',
  display_name: `Policy ${id}`,
  kind: 'created',
  version_id: null,
  previous_version_id: null,
  detected_at: '2030-01-01T00:00:00.000Z',
  run_id: 'sync1',
  changed_by: null,
  ...patch,
})

describe('feedRows', () => {
  it("groups a sync's discoveries into one row, and keeps real changes as their own rows", () => {
    const found = Array.from({ length: 292 }, (_, i) => change(`f${i}`))
    const edited = change('u1', {
      kind: 'updated',
      run_id: 'sync2',
      changed_by: { user_principal_name: 'jane@contoso.com', activity: 'Patch', at: '2030-01-02T00:00:00.000Z' },
    })
    const rows = feedRows([edited, ...found])
    expect(rows.map((r) => r.kind)).toEqual(['change', 'found'])
    const group = rows[1]!
    expect(group.kind === 'found' && group.changes.length).toBe(292)
    // Opened, the group lists every object again.
    expect(feedRows([edited, ...found], new Set([group.id]))).toHaveLength(293)
  })

  it('leaves a few discoveries, and created objects someone is known to have made, ungrouped', () => {
    const few = Array.from({ length: 3 }, (_, i) => change(`f${i}`))
    const made = Array.from({ length: 12 }, (_, i) =>
      change(`m${i}`, { changed_by: { app_name: 'TenantAtlas', activity: 'Restore', at: '2030-01-02T00:00:00.000Z' } }),
    )
    expect(feedRows([...few, ...made]).every((r) => r.kind === 'change')).toBe(true)
  })
})
