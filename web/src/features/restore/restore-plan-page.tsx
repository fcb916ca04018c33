import { Alert, Anchor, Badge, Button, Checkbox, Group, Stack, Table, Text, TextInput, Title } from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Fragment, useState } from 'react'
import { EmptyText, ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { errorMessage } from '../../lib/api.ts'
import { can } from '../../lib/capabilities.ts'
import { formatDateTime } from '../../lib/format.ts'
import { Link, navigate } from '../../lib/router.tsx'
import type { MeTenant } from '../../lib/types.ts'
import { DiffView } from '../../components/diff-view.tsx'
import {
  executeRestorePlan,
  restorePlanQuery,
  updateRestorePlan,
  type RestoreMapping,
  type RestorePlan,
  type RestorePlanChange,
  type RestorePlanItem,
} from './api.ts'
import { LongName } from '../../components/long-name.tsx'
import { executedRunOf, PlanExecutedAlert } from './plan-executed.tsx'

export const ACTION_COLORS: Record<RestorePlanItem['action'], string> = {
  create: 'green',
  update: 'blue',
  skip: 'gray',
  blocked: 'red',
}
const KIND_LABELS: Record<RestoreMapping['kind'], string> = {
  group: 'Group',
  assignment_filter: 'Assignment filter',
  scope_tag: 'Scope tag',
  notification_template: 'Notification template',
}
const PROPOSED: Record<NonNullable<RestoreMapping['proposed_by']>, string> = {
  remembered: 'remembered',
  name: 'same name',
  same: 'same object',
  restore: 'restored by this plan',
}

/** `/t/{tenantId}/restore/{planId}`: what a restore will do, object by object (with diffs), the mapping across tenants, and Execute. */
export function RestorePlanPage({ tenant, planId }: { tenant: MeTenant; planId: string }) {
  const queryClient = useQueryClient()
  const plan = useQuery(restorePlanQuery(tenant.id, planId))
  const manage = can(tenant, 'restore.execute')
  const save = (data: RestorePlan) => queryClient.setQueryData(restorePlanQuery(tenant.id, planId).queryKey, data)
  // Set when Execute answered 409 plan_executed: the run that executed the plan ('' when not named).
  const [executedBy, setExecutedBy] = useState<string | null>(null)
  const update = useMutation({
    mutationFn: (body: RestorePlanChange) => updateRestorePlan(tenant.id, planId, body),
    onSuccess: (data) => {
      save(data)
      setExecutedBy(null)
    },
    onError: (error) =>
      notifications.show({ title: 'Could not change the plan', message: errorMessage(error), color: 'red' }),
  })
  const execute = useMutation({
    mutationFn: () => executeRestorePlan(tenant.id, planId),
    onSuccess: ({ run }) => navigate(`/t/${tenant.id}/operations/${run.id}`),
    onError: (error) => {
      const runId = executedRunOf(error)
      if (runId !== null) return setExecutedBy(runId)
      notifications.show({ title: 'Could not start the restore', message: errorMessage(error), color: 'red' })
    },
  })

  if (plan.isPending) return <LoadingState label="Loading the restore plan" />
  if (plan.isError) return <ErrorState error={plan.error} />
  const p = plan.data
  const writes = p.counts.create + p.counts.update
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle
          eyebrow={
            <Anchor component={Link} to={`/t/${p.source_tenant_id}/backups/${p.backup_id}`}>
              Backup
            </Anchor>
          }
        >
          Restore plan
        </PageTitle>
        {manage && (
          <Group>
            <Button variant="default" loading={update.isPending} onClick={() => update.mutate({ refresh: true })}>
              Refresh plan
            </Button>
            <Button
              data-testid="execute-restore"
              disabled={p.stale || writes === 0}
              loading={execute.isPending}
              onClick={() => execute.mutate()}
            >
              Execute restore ({writes} {writes === 1 ? 'object' : 'objects'})
            </Button>
          </Group>
        )}
      </Group>
      <Text size="sm" c="dimmed">
        Built {formatDateTime(p.built_at)} against the inventory synced{' '}
        {p.target_synced_at ? formatDateTime(p.target_synced_at) : 'never'}
        {p.source_tenant_id !== p.target_tenant_id ? ' · from another tenant' : ''}
        {p.run_id ? (
          <>
            {' · '}
            <Anchor component={Link} to={`/t/${tenant.id}/operations/${p.run_id}`} size="sm">
              last run
            </Anchor>
          </>
        ) : null}
      </Text>
      {executedBy !== null && (
        <PlanExecutedAlert
          tenantId={tenant.id}
          runId={executedBy}
          refreshing={update.isPending}
          onRefresh={() => update.mutate({ refresh: true })}
        />
      )}
      {p.stale && (
        <Alert color="yellow" title="The inventory changed since this plan was built" data-testid="plan-stale">
          Refresh the plan and review it again before executing it.
        </Alert>
      )}
      <Group gap="xs">
        {(['create', 'update', 'skip', 'blocked'] as const).map((action) => (
          <Badge key={action} color={ACTION_COLORS[action]} variant="light">
            {p.counts[action]} {action}
          </Badge>
        ))}
        {p.counts.excluded > 0 && <Badge variant="outline">{p.counts.excluded} left out</Badge>}
      </Group>
      {p.mapping.length > 0 && <MappingTable plan={p} manage={manage} onSave={(body) => update.mutate(body)} />}
      <Title order={4}>Objects, in the order they are written</Title>
      <PlanItems
        plan={p}
        manage={manage}
        onExclude={(id, excluded) =>
          update.mutate(excluded ? { excluded_item_ids: [id] } : { included_item_ids: [id] })
        }
      />
    </Stack>
  )
}

function PlanItems({
  plan,
  manage,
  onExclude,
}: {
  plan: RestorePlan
  manage: boolean
  onExclude: (id: string, excluded: boolean) => void
}) {
  const [open, setOpen] = useState<string | null>(null)
  if (plan.items.length === 0) return <EmptyText>The backup has nothing to restore.</EmptyText>
  return (
    <Table.ScrollContainer minWidth={800}>
      <Table data-testid="restore-plan" verticalSpacing={4} striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={60}>Write</Table.Th>
            <Table.Th>Object</Table.Th>
            <Table.Th>Type</Table.Th>
            <Table.Th w={100}>Action</Table.Th>
            <Table.Th>Why, and warnings</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {plan.items.map((item) => (
            <Fragment key={item.id}>
              <Table.Tr data-testid="restore-plan-item" data-action={item.action}>
                <Table.Td>
                  {(item.action === 'create' || item.action === 'update') && (
                    <Checkbox
                      aria-label={`Write ${item.display_name}`}
                      checked={!item.excluded}
                      disabled={!manage}
                      onChange={(e) => onExclude(item.id, !e.currentTarget.checked)}
                    />
                  )}
                </Table.Td>
                <Table.Td>
                  <LongName size="sm" fw={500} td={item.excluded ? 'line-through' : undefined}>
                    {item.display_name}
                  </LongName>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{item.type_label}</Text>
                </Table.Td>
                <Table.Td>
                  <Badge color={ACTION_COLORS[item.action]} variant="light">
                    {item.action}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  {item.reason && item.action !== 'skip' && (
                    <Text size="sm" c={item.action === 'blocked' ? 'red.8' : undefined}>
                      {item.reason}
                    </Text>
                  )}
                  {item.warnings.map((w) => (
                    <Text key={w} size="sm" c="yellow.8">
                      {w}
                    </Text>
                  ))}
                  {item.changes && item.changes.length > 0 && (
                    <Anchor component="button" size="sm" onClick={() => setOpen(open === item.id ? null : item.id)}>
                      {open === item.id ? 'Hide' : 'Show'} {item.changes.length}{' '}
                      {item.changes.length === 1 ? 'change' : 'changes'}
                    </Anchor>
                  )}
                </Table.Td>
              </Table.Tr>
              {item.changes && open === item.id && (
                <Table.Tr>
                  <Table.Td colSpan={5}>
                    <DiffView changes={item.changes} />
                  </Table.Td>
                </Table.Tr>
              )}
            </Fragment>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  )
}

/** The mapping of groups and foundations into the target: proposed, reviewed, edited (remembered for the tenant pair). */
function MappingTable({
  plan,
  manage,
  onSave,
}: {
  plan: RestorePlan
  manage: boolean
  onSave: (body: RestorePlanChange) => void
}) {
  const [edits, setEdits] = useState<Record<string, string>>({})
  const key = (m: RestoreMapping) => `${m.kind}:${m.source_id}`
  const changed = plan.mapping.filter((m) => key(m) in edits && (edits[key(m)] || null) !== m.target_id)
  return (
    <Stack gap="xs">
      <Title order={4}>Mapping into this tenant</Title>
      <Table data-testid="restore-mapping" verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Kind</Table.Th>
            <Table.Th>In the backup</Table.Th>
            <Table.Th>In this tenant (id)</Table.Th>
            <Table.Th>Proposed by</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {plan.mapping.map((m) => (
            <Table.Tr key={key(m)} data-testid="restore-mapping-row">
              <Table.Td>
                <Text size="sm">{KIND_LABELS[m.kind]}</Text>
              </Table.Td>
              <Table.Td>
                <Text size="sm">{m.source_name}</Text>
              </Table.Td>
              <Table.Td>
                {manage ? (
                  <TextInput
                    size="xs"
                    aria-label={`Target of ${m.source_name}`}
                    placeholder="Not mapped: left out"
                    value={edits[key(m)] ?? m.target_id ?? ''}
                    onChange={(e) => {
                      const value = e.currentTarget.value
                      setEdits((current) => ({ ...current, [key(m)]: value }))
                    }}
                  />
                ) : (
                  <Text size="sm">{m.target_id ?? 'Not mapped'}</Text>
                )}
                {m.target_name && (
                  <Text size="xs" c="dimmed">
                    {m.target_name}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                {m.proposed_by ? (
                  <Badge variant="light">{PROPOSED[m.proposed_by]}</Badge>
                ) : (
                  <Badge color="yellow">not mapped</Badge>
                )}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {manage && (
        <Group>
          <Button
            size="xs"
            disabled={changed.length === 0}
            onClick={() => {
              onSave({
                mapping: changed.map((m) => ({
                  kind: m.kind,
                  source_id: m.source_id,
                  target_id: edits[key(m)]?.trim() || null,
                })),
              })
              setEdits({})
            }}
          >
            Save mapping ({changed.length})
          </Button>
        </Group>
      )}
    </Stack>
  )
}
