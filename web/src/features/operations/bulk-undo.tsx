import { Alert, Anchor, Badge, Button, Group, Modal, ScrollArea, Stack, Text } from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { DataList } from '../../components/data-list.tsx'
import { showSyncToast } from '../../components/inventory-sync.tsx'
import { useLiveRuns } from '../../components/live-runs.tsx'
import { api, errorMessage } from '../../lib/api.ts'
import { Link } from '../../lib/router.tsx'
import type { BulkRunUndoState, MeTenant, RestorePlan, Run } from '../../lib/types.ts'

const undoStateQuery = (tenantId: string, runId: string) =>
  queryOptions({
    // Not under ['runs', tenantId]: the live connection rewrites the run lists cached there.
    queryKey: ['bulk-undo', tenantId, runId],
    queryFn: ({ signal }) =>
      api<BulkRunUndoState>(`/api/tenants/${tenantId}/bulk-operations/${encodeURIComponent(runId)}`, { signal }),
  })

/** What Undo does to each object, from the restore plan's action. */
const UNDO_ACTIONS: Record<RestorePlan['items'][number]['action'], string> = {
  update: 'Change back',
  create: 'Re-create',
  skip: 'Unchanged',
  blocked: 'Blocked',
}
type Change = NonNullable<RestorePlan['items'][number]['changes']>[number]
/**
 * A change Undo makes, said as what it does to the object now: the restore's diff is "current →
 * backup", so an assignment the run added is *removed* by Undo ("removes Assignment: Include group X").
 */
export const undoChange = (c: Change) =>
  `${c.kind === 'added' ? 'adds' : c.kind === 'removed' ? 'removes' : 'changes'} ${c.label}`

/** "Change back 6 policies in Contoso" (and re-create, when the run deleted some). */
export function undoSentence(plan: RestorePlan, tenantName: string) {
  const back = plan.items.filter((i) => i.action === 'update' && !i.excluded).length
  const again = plan.items.filter((i) => i.action === 'create' && !i.excluded).length
  const noun = (n: number) => (n === 1 ? 'policy' : 'policies')
  const parts = [
    back > 0 ? `change back ${back} ${noun(back)}` : null,
    again > 0 ? `re-create ${again} ${noun(again)}` : null,
  ]
  const text = parts.filter(Boolean).join(' and ') || 'nothing to undo'
  return `${text[0]!.toUpperCase()}${text.slice(1)} in ${tenantName}.`
}

/**
 * Undo on a finished bulk run's page: plans a restore from the backup the run took first, for
 * the items it changed, shows that plan, and executes it as a restore run.
 */
export function BulkUndo({ tenant, run }: { tenant: MeTenant; run: Run }) {
  // Whether Undo applies is the server's answer (the run's abilities), not a guess from the type's name.
  const show = run.abilities.undo
  const state = useQuery({ ...undoStateQuery(tenant.id, run.id), enabled: show })
  const [plan, setPlan] = useState<RestorePlan | null>(null)
  const live = useLiveRuns()
  const queryClient = useQueryClient()
  const planUndo = useMutation({
    mutationFn: () =>
      api<RestorePlan>(`/api/tenants/${tenant.id}/bulk-operations/${encodeURIComponent(run.id)}/undo`, {
        method: 'POST',
      }),
    onSuccess: setPlan,
    onError: (error) => notifications.show({ title: 'Undo not planned', message: errorMessage(error), color: 'red' }),
  })
  const execute = useMutation({
    mutationFn: (planId: string) =>
      api<{ run: Run }>(`/api/tenants/${tenant.id}/restore-plans/${encodeURIComponent(planId)}/execute`, {
        method: 'POST',
      }),
    onSuccess: async (started) => {
      showSyncToast({ run: started.run, deduplicated: false })
      live?.refresh()
      setPlan(null)
      await queryClient.invalidateQueries({ queryKey: undoStateQuery(tenant.id, run.id).queryKey })
    },
    onError: (error) => notifications.show({ title: 'Undo not started', message: errorMessage(error), color: 'red' }),
  })
  if (!show || !state.data) return null
  const undoneBy = state.data.undone_by_run_id
  if (undoneBy) {
    return (
      <Badge size="lg" variant="light" color="gray" data-testid="bulk-undone">
        Undone by{' '}
        <Anchor component={Link} to={`/t/${tenant.id}/operations/${undoneBy}`} size="sm">
          restore run {undoneBy.slice(0, 8)}
        </Anchor>
      </Badge>
    )
  }
  if (!state.data.undo.available) {
    return (
      <Button variant="default" disabled title={state.data.undo.reason ?? undefined} data-testid="bulk-undo">
        Undo
      </Button>
    )
  }
  const toRestore = plan ? plan.counts.create + plan.counts.update : 0
  return (
    <>
      <Button variant="default" onClick={() => planUndo.mutate()} loading={planUndo.isPending} data-testid="bulk-undo">
        Undo
      </Button>
      {plan && (
        <Modal
          opened
          onClose={() => setPlan(null)}
          title="Undo: restore from the backup taken before the run"
          size="xl"
        >
          <Stack gap="sm" data-testid="restore-plan">
            <Group gap="xs">
              <Text size="sm" fw={600} data-testid="undo-sentence">
                {undoSentence(plan, tenant.name)}
              </Text>
              <Badge variant="light">{plan.counts.update} to change back</Badge>
              <Badge variant="light" color="teal">
                {plan.counts.create} to re-create
              </Badge>
              <Badge variant="light" color="gray">
                {plan.counts.skip + plan.counts.blocked} unchanged or blocked
              </Badge>
            </Group>
            <ScrollArea.Autosize mah={320}>
              <DataList
                rows={plan.items}
                rowKey={(item) => item.id}
                testId="undo-items"
                verticalSpacing={4}
                empty="Nothing to undo."
                columns={[
                  { key: 'object', label: 'Object', cell: (item) => item.display_name },
                  { key: 'type', label: 'Type', cell: (item) => item.type_label },
                  { key: 'undo', label: 'Undo', cell: (item) => UNDO_ACTIONS[item.action] },
                  {
                    key: 'change',
                    label: 'Change',
                    testId: 'undo-change',
                    cell: (item) => item.reason ?? (item.changes ?? []).map(undoChange).join('; '),
                  },
                ]}
              />
            </ScrollArea.Autosize>
            {plan.stale && (
              <Alert color="yellow">The inventory was synced after this plan was built: plan the undo again.</Alert>
            )}
            <Group justify="space-between">
              <Anchor component={Link} to={`/t/${tenant.id}/restore/${plan.id}`} size="sm">
                Review the plan in detail
              </Anchor>
              <Button
                onClick={() => execute.mutate(plan.id)}
                loading={execute.isPending}
                disabled={toRestore === 0 || plan.stale}
                data-testid="confirm-write"
              >
                {`Restore ${toRestore} item${toRestore === 1 ? '' : 's'}`}
              </Button>
            </Group>
            <Text size="xs" c="dimmed">
              The restore runs as its own operation, with its own results and notification.
            </Text>
          </Stack>
        </Modal>
      )}
    </>
  )
}
