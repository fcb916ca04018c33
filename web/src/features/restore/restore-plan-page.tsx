import {
  Alert,
  Anchor,
  Badge,
  Button,
  Checkbox,
  Collapse,
  Group,
  Modal,
  Paper,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { Fragment, useState } from 'react'
import { DiffView } from '../../components/diff-view.tsx'
import { LongName } from '../../components/long-name.tsx'
import { EmptyText, ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { TargetPicker } from '../../components/target-picker.tsx'
import { errorMessage } from '../../lib/api.ts'
import { can } from '../../lib/capabilities.ts'
import { formatDateTime } from '../../lib/format.ts'
import { Link, navigate } from '../../lib/router.tsx'
import type { MeTenant } from '../../lib/types.ts'
import {
  executeRestorePlan,
  restorePlanQuery,
  updateRestorePlan,
  type RestoreMapping,
  type RestorePlan,
  type RestorePlanChange,
  type RestorePlanItem,
} from './api.ts'
import { executedRunOf, PlanExecutedAlert } from './plan-executed.tsx'
import {
  confirmationSentence,
  groupMapping,
  groupPlan,
  isCrossTenant,
  skipReasons,
  unmappedSentences,
  writeCounts,
} from './plan-summary.ts'

export const ACTION_COLORS: Record<RestorePlanItem['action'], string> = {
  create: 'green',
  update: 'blue',
  skip: 'gray',
  blocked: 'red',
}
const ACTION_LABELS: Record<RestorePlanItem['action'], string> = {
  create: 'Create',
  update: 'Update',
  skip: 'Skip',
  blocked: 'Blocked',
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

/**
 * `/t/{tenantId}/restore/{planId}`: what a restore will write, first and in words; what is
 * blocked and why; the mapping into this tenant picked from its objects; the rest collapsed
 * behind counts. Execute asks once, saying what happens (ADR 026).
 */
export function RestorePlanPage({ tenant, planId }: { tenant: MeTenant; planId: string }) {
  const queryClient = useQueryClient()
  const plan = useQuery(restorePlanQuery(tenant.id, planId))
  const manage = can(tenant, 'restore.execute')
  const [confirming, setConfirming] = useState(false)
  const [leaveOut, setLeaveOut] = useState(false)
  const [changesOnly, setChangesOnly] = useState(true)
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
    onSuccess: ({ run }) => {
      setConfirming(false)
      navigate(`/t/${tenant.id}/operations/${run.id}`)
    },
    onError: (error) => {
      setConfirming(false)
      const runId = executedRunOf(error)
      if (runId !== null) return setExecutedBy(runId)
      notifications.show({ title: 'Could not start the restore', message: errorMessage(error), color: 'red' })
    },
  })

  if (plan.isPending) return <LoadingState label="Loading the restore plan" />
  if (plan.isError) return <ErrorState error={plan.error} />
  const p = plan.data
  const counts = writeCounts(p)
  const writes = counts.create + counts.update
  const groups = groupPlan(p)
  const mapping = groupMapping(p)
  const blockedByMapping = mapping.unmapped.length > 0 && !leaveOut
  const why = p.stale
    ? 'Refresh the plan first: the inventory changed since it was built'
    : writes === 0
      ? 'Nothing to write'
      : blockedByMapping
        ? 'Map the references below, or choose to leave them out'
        : undefined
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
              disabled={why !== undefined}
              title={why}
              onClick={() => setConfirming(true)}
            >
              Execute restore…
            </Button>
          </Group>
        )}
      </Group>
      <Paper withBorder p="sm" data-testid="restore-summary">
        <Stack gap={6}>
          <Text fw={600}>{confirmationSentence(p, tenant.name)}</Text>
          <Group gap="xs">
            <Badge color="green" variant="light">
              {counts.create} create
            </Badge>
            <Badge color="blue" variant="light">
              {counts.update} update
            </Badge>
            {p.counts.blocked > 0 && (
              <Badge color="red" variant="light">
                {p.counts.blocked} blocked
              </Badge>
            )}
            <Badge color="gray" variant="light">
              {p.counts.skip} unchanged
            </Badge>
            {p.counts.excluded > 0 && <Badge variant="outline">{p.counts.excluded} left out by you</Badge>}
          </Group>
          <Text size="xs" c="dimmed">
            Built {formatDateTime(p.built_at)} against the inventory synced{' '}
            {p.target_synced_at ? formatDateTime(p.target_synced_at) : 'never'}
            {isCrossTenant(p) ? ' · from another tenant' : ''}
            {p.run_id ? (
              <>
                {' · '}
                <Anchor component={Link} to={`/t/${tenant.id}/operations/${p.run_id}`} size="xs">
                  last run
                </Anchor>
              </>
            ) : null}
          </Text>
        </Stack>
      </Paper>
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
      {mapping.unmapped.length > 0 && (
        <Alert
          color={leaveOut ? 'gray' : 'orange'}
          title="References without a target in this tenant"
          data-testid="restore-unmapped"
        >
          <Stack gap={6}>
            {unmappedSentences(mapping.unmapped).map((s) => (
              <Text key={s} size="sm">
                {s}.
              </Text>
            ))}
            <Text size="sm">Pick their targets in the mapping below, or restore without them.</Text>
            {manage && (
              <Checkbox
                data-testid="leave-unmapped-out"
                label="Leave them out: restore without these references"
                checked={leaveOut}
                onChange={(e) => setLeaveOut(e.currentTarget.checked)}
              />
            )}
          </Stack>
        </Alert>
      )}
      <Group justify="space-between">
        <Title order={4}>
          What will be written ({groups.writes.length} {groups.writes.length === 1 ? 'object' : 'objects'})
        </Title>
        <Switch
          label="Changes only"
          checked={changesOnly}
          onChange={(e) => setChangesOnly(e.currentTarget.checked)}
          data-testid="changes-only"
        />
      </Group>
      <PlanItems
        items={groups.writes}
        manage={manage}
        testId="restore-plan"
        empty="Nothing to write: the tenant already matches the backup."
        onExclude={(id, excluded) =>
          update.mutate(excluded ? { excluded_item_ids: [id] } : { included_item_ids: [id] })
        }
      />
      {groups.blocked.length > 0 && (
        <Stack gap="xs" data-testid="restore-blocked">
          <Title order={4} c="red.8">
            Blocked ({groups.blocked.length}): cannot be restored
          </Title>
          <PlanItems items={groups.blocked} manage={false} onExclude={() => {}} />
        </Stack>
      )}
      {(mapping.review.length > 0 || mapping.same.length > 0) && (
        <MappingTable
          tenantId={tenant.id}
          mapping={mapping}
          manage={manage}
          showSame={!changesOnly}
          onSave={(body) => update.mutate(body)}
        />
      )}
      {groups.skipped.length > 0 && (
        <Stack gap="xs" data-testid="restore-skipped">
          <Group gap="xs">
            <Text size="sm" c="dimmed">
              {groups.skipped.length} unchanged, skipped (
              {skipReasons(groups.skipped)
                .map((r) => `${r.count} ${r.reason}`)
                .join(', ')}
              )
            </Text>
            <Anchor component="button" size="sm" onClick={() => setChangesOnly(!changesOnly)}>
              {changesOnly ? 'Show them' : 'Hide them'}
            </Anchor>
          </Group>
          <Collapse expanded={!changesOnly}>
            {!changesOnly && <PlanItems items={groups.skipped} manage={false} onExclude={() => {}} />}
          </Collapse>
        </Stack>
      )}
      <ConfirmRestore
        opened={confirming}
        plan={p}
        tenantName={tenant.name}
        pending={execute.isPending}
        onClose={() => setConfirming(false)}
        onConfirm={() => execute.mutate()}
      />
    </Stack>
  )
}

/** The one confirmation of a restore: what it writes, in words and numbers; a cross-tenant restore is confirmed by typing the tenant's name. */
function ConfirmRestore({
  opened,
  plan,
  tenantName,
  pending,
  onClose,
  onConfirm,
}: {
  opened: boolean
  plan: RestorePlan
  tenantName: string
  pending: boolean
  onClose: () => void
  onConfirm: () => void
}) {
  const [typed, setTyped] = useState('')
  const cross = isCrossTenant(plan)
  const ready = !cross || typed.trim() === tenantName.trim()
  return (
    <Modal opened={opened} onClose={onClose} title="Execute this restore?" data-testid="confirm-restore">
      <Stack gap="sm">
        <Text data-testid="confirm-restore-sentence">{confirmationSentence(plan, tenantName)}</Text>
        {plan.counts.blocked > 0 && (
          <Text size="sm" c="dimmed">
            {plan.counts.blocked} blocked {plan.counts.blocked === 1 ? 'object is' : 'objects are'} not written.
          </Text>
        )}
        <Text size="sm" c="dimmed">
          A safety backup of what changes is taken first; the run can be followed and cancelled under Operations.
        </Text>
        {cross && (
          <TextInput
            label={`This writes into another tenant: type ${tenantName} to confirm`}
            value={typed}
            onChange={(e) => setTyped(e.currentTarget.value)}
            data-testid="confirm-restore-name"
            autoFocus
          />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button data-testid="confirm-write" disabled={!ready} loading={pending} onClick={onConfirm}>
            Restore now
          </Button>
        </Group>
      </Stack>
    </Modal>
  )
}

function PlanItems({
  items,
  manage,
  onExclude,
  testId,
  empty,
}: {
  items: RestorePlanItem[]
  manage: boolean
  onExclude: (id: string, excluded: boolean) => void
  testId?: string
  empty?: string
}) {
  const [open, setOpen] = useState<string | null>(null)
  if (items.length === 0)
    return (
      <div data-testid={testId}>
        <EmptyText>{empty ?? 'Nothing here.'}</EmptyText>
      </div>
    )
  return (
    <Table data-testid={testId} verticalSpacing={4} striped highlightOnHover className="stack-on-narrow">
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
        {items.map((item) => (
          <Fragment key={item.id}>
            <Table.Tr data-testid="restore-plan-item" data-action={item.action}>
              <Table.Td data-label="Write">
                {(item.action === 'create' || item.action === 'update') && (
                  <Checkbox
                    aria-label={`Write ${item.display_name}`}
                    checked={!item.excluded}
                    disabled={!manage}
                    onChange={(e) => onExclude(item.id, !e.currentTarget.checked)}
                  />
                )}
              </Table.Td>
              <Table.Td data-label="Object">
                <LongName size="sm" fw={500} td={item.excluded ? 'line-through' : undefined}>
                  {item.display_name}
                </LongName>
              </Table.Td>
              <Table.Td data-label="Type">
                <Text size="sm">{item.type_label}</Text>
              </Table.Td>
              <Table.Td data-label="Action">
                <Badge color={ACTION_COLORS[item.action]} variant="light">
                  {ACTION_LABELS[item.action]}
                </Badge>
              </Table.Td>
              <Table.Td data-label="Why">
                {item.reason && (
                  <Text size="sm" c={item.action === 'blocked' ? 'red.8' : 'dimmed'}>
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
  )
}

type Edit = { id: string | null; label: string | null }

/**
 * The mapping of groups and foundations into the target: each picked from the tenant's own objects
 * by name (never typed), saved together and remembered for the tenant pair. References that stay
 * the same object are counted, not listed, unless asked.
 */
function MappingTable({
  tenantId,
  mapping,
  manage,
  showSame,
  onSave,
}: {
  tenantId: string
  mapping: ReturnType<typeof groupMapping>
  manage: boolean
  showSame: boolean
  onSave: (body: RestorePlanChange) => void
}) {
  const [edits, setEdits] = useState<Record<string, Edit>>({})
  const [sameOpen, setSameOpen] = useState(false)
  const key = (m: RestoreMapping) => `${m.kind}:${m.source_id}`
  const all = [...mapping.review, ...mapping.same]
  const changed = all.filter((m) => key(m) in edits && edits[key(m)]!.id !== m.target_id)
  const rows = showSame || sameOpen ? all : mapping.review
  return (
    <Stack gap="xs">
      <Title order={4}>Mapping into this tenant</Title>
      {rows.length > 0 && (
        <Table data-testid="restore-mapping" verticalSpacing={4} className="stack-on-narrow">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Kind</Table.Th>
              <Table.Th>In the backup</Table.Th>
              <Table.Th>In this tenant</Table.Th>
              <Table.Th>Proposed by</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((m) => {
              const edit = edits[key(m)]
              const pickable = m.kind !== 'notification_template'
              const created = m.proposed_by === 'restore' && m.target_id === null
              return (
                <Table.Tr key={key(m)} data-testid="restore-mapping-row" data-mapped={m.target_id ? 'yes' : 'no'}>
                  <Table.Td data-label="Kind">
                    <Text size="sm">{KIND_LABELS[m.kind]}</Text>
                  </Table.Td>
                  <Table.Td data-label="In the backup">
                    <Text size="sm">{m.source_name}</Text>
                  </Table.Td>
                  <Table.Td data-label="In this tenant">
                    {created ? (
                      <Text size="sm">Created by this restore</Text>
                    ) : manage && pickable ? (
                      <TargetPicker
                        tenantId={tenantId}
                        kind={m.kind as 'group' | 'assignment_filter' | 'scope_tag'}
                        size="xs"
                        w={280}
                        clearable
                        aria-label={`Target of ${m.source_name}`}
                        placeholder="Not mapped: pick one"
                        value={edit ? edit.id : m.target_id}
                        valueLabel={edit ? edit.label : m.target_name}
                        onChange={(id, label) => setEdits((current) => ({ ...current, [key(m)]: { id, label } }))}
                      />
                    ) : (
                      <Text size="sm">{m.target_name ?? m.target_id ?? 'Not mapped'}</Text>
                    )}
                  </Table.Td>
                  <Table.Td data-label="Proposed by">
                    {m.proposed_by ? (
                      <Badge variant="light">{PROPOSED[m.proposed_by]}</Badge>
                    ) : m.gone && !m.target_id ? (
                      <Badge color="gray" data-testid="mapping-gone">
                        deleted here: left out
                      </Badge>
                    ) : (
                      <Badge color="orange">not mapped</Badge>
                    )}
                  </Table.Td>
                </Table.Tr>
              )
            })}
          </Table.Tbody>
        </Table>
      )}
      <Group>
        {manage && changed.length > 0 && (
          <Button
            size="xs"
            data-testid="save-mapping"
            onClick={() => {
              onSave({
                mapping: changed.map((m) => ({ kind: m.kind, source_id: m.source_id, target_id: edits[key(m)]!.id })),
              })
              setEdits({})
            }}
          >
            Save mapping ({changed.length})
          </Button>
        )}
        {mapping.same.length > 0 && !showSame && (
          <Anchor component="button" size="sm" onClick={() => setSameOpen(!sameOpen)} data-testid="mapping-same">
            {sameOpen ? 'Hide' : 'Show'} {mapping.same.length}{' '}
            {mapping.same.length === 1 ? 'reference that stays' : 'references that stay'} the same object
          </Anchor>
        )}
      </Group>
    </Stack>
  )
}
