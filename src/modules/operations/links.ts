/** Canonical links to runs, for the API, the UI and notifications: built here and nowhere else. */
export const runApiPath = (tenantId: string, runId: string) => `/api/tenants/${tenantId}/operation-runs/${runId}`
export const runViewPath = (tenantId: string, runId: string) => `/t/${tenantId}/operations/${runId}`
export const operationsViewPath = (tenantId: string) => `/t/${tenantId}/operations`

export const runLinks = (tenantId: string, runId: string) => ({
  self: runApiPath(tenantId, runId),
  view: runViewPath(tenantId, runId),
})
