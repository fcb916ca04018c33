import { Anchor } from '@mantine/core'
import { Link } from '../../lib/router.tsx'
import type { InventoryVersion } from '../../lib/types.ts'

/**
 * Who made a version's or a change's change: the person or app Intune's audit log names, or — a
 * TenantAtlas run's own write — "TenantAtlas — Restore from backup … by jane@… (run …)" with the
 * run linked.
 */
export function ChangedBy({ tenantId, changedBy }: { tenantId: string; changedBy: InventoryVersion['changed_by'] }) {
  if (!changedBy) return <>—</>
  if (changedBy.run_id)
    return (
      <span data-testid="changed-by-run">
        TenantAtlas — {changedBy.activity}
        {changedBy.initiated_by ? ` by ${changedBy.initiated_by}` : ''} (
        <Anchor component={Link} to={`/t/${tenantId}/operations/${changedBy.run_id}`} size="sm">
          run {changedBy.run_id.slice(0, 8)}
        </Anchor>
        )
      </span>
    )
  return <>{changedBy.user_principal_name ?? changedBy.app_name ?? 'Unknown'}</>
}
