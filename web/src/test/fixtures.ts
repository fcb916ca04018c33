import type { OperationType, Run } from '../lib/types.ts'

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
  abilities: { cancel: true, rerun: false, undo: false },
  links: { self: `/api/tenants/t1/operation-runs/${id}`, view: `/t/t1/operations/${id}` },
  ...patch,
})

/** GET /api/operation-types as the server answers: the shipped sync and a type the console has never heard of. */
export const operationTypes: { data: OperationType[] } = {
  data: [
    {
      type: 'inventory.sync',
      label: 'Inventory sync',
      description: "Reads the tenant's Intune configuration from Microsoft Graph and mirrors it.",
      capability: 'inventory.sync',
      cancellable: true,
      rerunnable: true,
      schedulable: true,
      failure_codes: [
        {
          code: 'missing_permission',
          fix: 'Grant the missing application permission (named above) to the app registration in Entra ID and admin-consent it, then re-run.',
        },
        {
          code: 'throttled_exhausted',
          fix: 'Microsoft Graph kept throttling the tenant: re-run later, outside busy hours.',
        },
      ],
    },
    {
      type: 'recipe.stamp',
      label: 'Stamp targets',
      description: 'Stamps each target with a marker, and reports one result per target.',
      capability: 'inventory.sync',
      cancellable: true,
      rerunnable: true,
      schedulable: true,
      failure_codes: [
        { code: 'target_locked', fix: 'Unlock the target in Intune (it is being edited elsewhere), then re-run.' },
      ],
    },
  ],
}
