/**
 * The run failure codes a Graph read or write can end in (graph/errors.ts, the tenant's connection),
 * with the fix a person should read for each: every operation type that talks to Graph spreads these
 * into its `failureCodes` and adds its own.
 */
export const graphFailureCodes = {
  missing_permission:
    'Grant the missing application permission (named above) to the app registration in Entra ID and admin-consent it, then re-run.',
  invalid_credentials: 'Check the client id and secret on the Tenants page, then re-run.',
  app_not_found: 'The app registration was not found in the tenant: check the client id on the Tenants page.',
  tenant_not_found:
    'The Microsoft tenant (or the TenantAtlas tenant) was not found: check the tenant id, or remove the tenant.',
  throttled_exhausted: 'Microsoft Graph kept throttling the tenant: re-run later, outside busy hours.',
  graph_unavailable: 'Microsoft Graph did not answer: re-run later.',
  bad_request: 'Microsoft Graph refused a request for this type: re-run, and report it if it persists.',
  not_found: 'An object disappeared while it was read: re-run.',
  emulator_not_configured: 'The tenant is on the emulator cloud: set GRAPH_EMULATOR_URL for the worker, then re-run.',
} as const
