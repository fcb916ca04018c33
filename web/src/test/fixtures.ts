import type { Run } from '../lib/types.ts'

/** A running inventory sync of tenant t1, as the API presents it; `patch` changes what a test needs. */
export const makeRun = (id: string, patch: Partial<Run> = {}): Run => ({
  id,
  tenant_id: 't1',
  type: 'inventory.sync',
  type_label: 'Inventory sync',
  status: 'running',
  status_label: 'Running',
  outcome: null,
  cancel_requested: false,
  initiator: null,
  schedule: null,
  context: {},
  summary_counts: {},
  failures: [],
  units: [],
  attempt: 1,
  created_at: '2026-01-01T00:00:00Z',
  started_at: null,
  completed_at: null,
  abilities: { cancel: true, rerun: false },
  links: { self: `/api/tenants/t1/operation-runs/${id}`, view: `/t/t1/operations/${id}` },
  ...patch,
})
