import type { GraphErrorCode } from './errors.ts'
import type { GraphClient } from './graph-client.ts'
import { POLICY_TYPES, type PolicyTypeEntry } from './policy-types.ts'
import type { GraphTenantContext } from './tenant-context.ts'

/**
 * Whether the app registration can read each catalog type: one `$top=1` read per distinct
 * collection, all inside `$batch`. A sign-in failure (wrong secret, unknown tenant) is thrown
 * as it is: then nothing can be read and the caller reports that instead.
 */

export type ProbeResult = {
  key: string
  label: string
  permission: string
  status: 'granted' | 'missing' | 'unknown'
  /** For `unknown`: why the probe could not tell (Graph unavailable, throttled). */
  error?: { code: GraphErrorCode; message: string }
}

// A singleton is read whole (one small object); a 404 there is a tenant without one, not a refusal.
const probeUrl = (entry: PolicyTypeEntry) =>
  entry.singleton ? `/${entry.apiVersion}/${entry.path}` : `/${entry.apiVersion}/${entry.path}?$top=1&$select=id`

export async function probePermissions(
  client: GraphClient,
  ctx: GraphTenantContext,
  entries: readonly PolicyTypeEntry[] = POLICY_TYPES,
): Promise<ProbeResult[]> {
  const urls = [...new Set(entries.map(probeUrl))]
  const results = await client.batch(ctx, urls)
  const byUrl = new Map(urls.map((url, i) => [url, results[i]!]))
  return entries.map((entry) => {
    const result = byUrl.get(probeUrl(entry))!
    const base = { key: entry.key, label: entry.label, permission: entry.permission }
    if (!result.error || (entry.singleton && result.error.code === 'not_found')) return { ...base, status: 'granted' }
    if (result.error.code === 'missing_permission') return { ...base, status: 'missing' }
    return { ...base, status: 'unknown', error: { code: result.error.code, message: result.error.message } }
  })
}
