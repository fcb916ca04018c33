import {
  Alert,
  Badge,
  Button,
  Group,
  Modal,
  NumberInput,
  Paper,
  ScrollArea,
  SegmentedControl,
  Stack,
  Switch,
  Table,
  Text,
  TextInput,
} from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import { showSyncToast } from '../../components/inventory-sync.tsx'
import { useLiveRuns } from '../../components/live-runs.tsx'
import { errorMessage } from '../../lib/api.ts'
import { type BulkSelection, isEmpty } from '../../lib/bulk-selection.ts'
import type { BulkAction, BulkPlan } from '../../lib/types.ts'
import { PREVIEW_ROWS, previewBulk, selectionSummaryQuery, startBulk } from './bulk-api.ts'
import { LongName } from '../../components/long-name.tsx'
import { TargetPicker } from '../../components/target-picker.tsx'

export const ACTION_LABELS: Record<BulkAction, string> = {
  assign: 'Assign group',
  unassign: 'Remove group',
  add_scope_tag: 'Add scope tag',
  remove_scope_tag: 'Remove scope tag',
  rename: 'Rename',
  duplicate: 'Duplicate',
  delete: 'Delete',
}

/** The bar under the filters while something is selected: the count and the actions the server allows. */
export function BulkActionsBar({
  tenantId,
  selection,
  onClear,
}: {
  tenantId: string
  selection: BulkSelection
  onClear: () => void
}) {
  const summary = useQuery({ ...selectionSummaryQuery(tenantId, selection), enabled: !isEmpty(selection) })
  const [action, setAction] = useState<BulkAction | null>(null)
  if (isEmpty(selection)) return null
  const count = summary.data?.item_count
  return (
    <Paper
      withBorder
      p="xs"
      radius="md"
      data-testid="bulk-actions"
      bg="var(--mantine-color-body)"
      // Stays in view under the header while the list scrolls: selecting and acting without scrolling back.
      style={{ position: 'sticky', top: 'calc(var(--app-shell-header-height, 56px) + 4px)', zIndex: 20 }}
      shadow="sm"
    >
      <Group justify="space-between" gap="sm">
        <Group gap="xs">
          <Text size="sm" fw={600} data-testid="bulk-selected-count">
            {count === undefined ? 'Counting…' : `${count.toLocaleString('en')} selected`}
            {selection.kind === 'filter' ? ' (everything matching the filter)' : ''}
          </Text>
          {summary.data && summary.data.types.length > 1 && (
            <Text size="xs" c="dimmed">
              {summary.data.types.length} types
            </Text>
          )}
          <Button variant="subtle" size="compact-sm" onClick={onClear}>
            Clear selection
          </Button>
        </Group>
        <Group gap={6}>
          {summary.data?.actions.map((a) => (
            <Button
              key={a}
              size="compact-sm"
              variant={a === 'delete' ? 'light' : 'default'}
              color={a === 'delete' ? 'red' : undefined}
              onClick={() => setAction(a)}
              data-testid={`bulk-action-${a}`}
            >
              {ACTION_LABELS[a]}
            </Button>
          ))}
        </Group>
      </Group>
      {action && (
        <BulkDialog
          tenantId={tenantId}
          selection={selection}
          action={action}
          onClose={() => setAction(null)}
          onStarted={onClear}
        />
      )}
    </Paper>
  )
}

type Params = Record<string, unknown>

/** The action's parameters, then its preview; the confirm button exists only once the preview is shown. */
function BulkDialog({
  tenantId,
  selection,
  action,
  onClose,
  onStarted,
}: {
  tenantId: string
  selection: BulkSelection
  action: BulkAction
  onClose: () => void
  onStarted: () => void
}) {
  const [params, setParams] = useState<Params>(() => initialParams(action))
  const [plan, setPlan] = useState<BulkPlan | null>(null)
  const [typed, setTyped] = useState<number | string>('')
  const live = useLiveRuns()
  const effective = action === 'delete' ? { confirm_count: plan?.item_count ?? 0 } : params
  const preview = useMutation({
    mutationFn: () => previewBulk(tenantId, selection, action, action === 'delete' ? { confirm_count: 0 } : params),
    onSuccess: setPlan,
  })
  const start = useMutation({
    mutationFn: () => startBulk(tenantId, selection, action, effective),
    onSuccess: (started) => {
      showSyncToast(started)
      live?.refresh()
      onStarted()
      onClose()
    },
    onError: (error) =>
      notifications.show({ title: `${ACTION_LABELS[action]} not started`, message: errorMessage(error), color: 'red' }),
  })
  const change = (patch: Params) => {
    setParams((p) => ({ ...p, ...patch }))
    setPlan(null)
  }
  const confirmable =
    plan !== null && plan.counts.change > 0 && (action !== 'delete' || Number(typed) === plan.item_count)
  return (
    <Modal
      opened
      onClose={onClose}
      title={`${ACTION_LABELS[action]}: preview first`}
      size="xl"
      data-testid="bulk-dialog"
    >
      <Stack gap="sm">
        <ParamsForm tenantId={tenantId} action={action} params={params} onChange={change} />
        <Group>
          <Button
            variant="default"
            onClick={() => preview.mutate()}
            loading={preview.isPending}
            data-testid="bulk-preview"
          >
            {plan ? 'Preview again' : 'Preview'}
          </Button>
        </Group>
        {preview.isError && (
          <Alert color="red" title="Cannot preview">
            {errorMessage(preview.error)}
          </Alert>
        )}
        {plan && <PlanView plan={plan} />}
        {plan && action === 'delete' && plan.counts.change > 0 && (
          <NumberInput
            label={`Type ${plan.item_count} to delete ${plan.counts.change} item${plan.counts.change === 1 ? '' : 's'} (a backup is taken first)`}
            value={typed}
            onChange={setTyped}
            data-testid="bulk-confirm-count"
            w={320}
          />
        )}
        {plan && (
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button
              color={action === 'delete' ? 'red' : undefined}
              disabled={!confirmable}
              loading={start.isPending}
              onClick={() => start.mutate()}
              data-testid="bulk-confirm"
            >
              {`${ACTION_LABELS[action]}: ${plan.counts.change.toLocaleString('en')} item${plan.counts.change === 1 ? '' : 's'}`}
            </Button>
          </Group>
        )}
      </Stack>
    </Modal>
  )
}

/** Graph's assignment targets that are no group: offered with the groups by the assign action's picker. */
const ALL_TARGETS = [
  { value: 'all_users', label: 'All users' },
  { value: 'all_devices', label: 'All devices' },
]

function initialParams(action: BulkAction): Params {
  switch (action) {
    case 'assign':
      return { intent: 'include' }
    case 'duplicate':
      return { name_suffix: ' (copy)', with_assignments: true }
    default:
      return {}
  }
}

function ParamsForm({
  tenantId,
  action,
  params,
  onChange,
}: {
  tenantId: string
  action: BulkAction
  params: Params
  onChange: (patch: Params) => void
}) {
  const needsGroup = action === 'assign' || action === 'unassign'
  const needsTag = action === 'add_scope_tag' || action === 'remove_scope_tag'
  const str = (key: string) => (typeof params[key] === 'string' ? params[key] : '')
  return (
    <Stack gap="xs">
      {needsGroup && (
        <TargetPicker
          tenantId={tenantId}
          kind="group"
          label="Group"
          description={
            action === 'assign'
              ? "Search the tenant's groups by name, or pick All users / All devices; the run reads each policy's assignments fresh and keeps all others"
              : "Search the tenant's groups by name; the run reads each policy's assignments fresh and keeps all others"
          }
          placeholder="Type to search groups"
          extra={action === 'assign' ? ALL_TARGETS : []}
          value={str('target') || str('group_id') || null}
          onChange={(v) =>
            onChange(
              ALL_TARGETS.some((t) => t.value === v)
                ? { target: v ?? undefined, group_id: undefined, intent: 'include' }
                : { target: undefined, group_id: v ?? undefined },
            )
          }
          data-testid="bulk-group"
        />
      )}
      {action === 'assign' && (
        <Group align="flex-end">
          <SegmentedControl
            value={str('intent') || 'include'}
            onChange={(v) => onChange({ intent: v })}
            data={[
              { value: 'include', label: 'Include' },
              // Graph excludes groups only.
              { value: 'exclude', label: 'Exclude', disabled: Boolean(str('target')) },
            ]}
          />
          <TargetPicker
            tenantId={tenantId}
            kind="assignment_filter"
            label="Assignment filter (optional)"
            clearable
            value={str('filter_id') || null}
            onChange={(v) =>
              onChange({ filter_id: v ?? undefined, filter_mode: v ? str('filter_mode') || 'include' : undefined })
            }
            w={280}
          />
          {str('filter_id') && (
            <SegmentedControl
              value={str('filter_mode') || 'include'}
              onChange={(v) => onChange({ filter_mode: v })}
              data={[
                { value: 'include', label: 'Filter: include' },
                { value: 'exclude', label: 'Filter: exclude' },
              ]}
            />
          )}
        </Group>
      )}
      {needsTag && (
        <TargetPicker
          tenantId={tenantId}
          kind="scope_tag"
          label="Scope tag"
          extra={[{ value: '0', label: 'Default' }]}
          value={str('scope_tag_id') || null}
          onChange={(v) => onChange({ scope_tag_id: v ?? undefined })}
          data-testid="bulk-scope-tag"
        />
      )}
      {action === 'rename' && (
        <Group grow>
          <TextInput
            label="Prefix"
            value={str('prefix')}
            onChange={(e) => onChange({ prefix: e.currentTarget.value || undefined })}
            data-testid="bulk-prefix"
          />
          <TextInput
            label="Suffix"
            value={str('suffix')}
            onChange={(e) => onChange({ suffix: e.currentTarget.value || undefined })}
          />
          <TextInput
            label="Find"
            value={str('find')}
            onChange={(e) => onChange({ find: e.currentTarget.value || undefined })}
          />
          <TextInput
            label="Replace with"
            value={str('replace')}
            onChange={(e) => onChange({ replace: e.currentTarget.value || undefined })}
          />
        </Group>
      )}
      {action === 'duplicate' && (
        <Group align="flex-end">
          <TextInput
            label="Name suffix of the copies"
            value={str('name_suffix')}
            onChange={(e) => onChange({ name_suffix: e.currentTarget.value })}
          />
          <Switch
            label="Copy the assignments"
            checked={params.with_assignments !== false}
            onChange={(e) => onChange({ with_assignments: e.currentTarget.checked })}
            mb={8}
          />
        </Group>
      )}
      {action === 'delete' && (
        <Text size="sm">
          The selected items are backed up, then deleted in Intune. Undo on the run page restores them from that backup.
        </Text>
      )}
    </Stack>
  )
}

/** The per-item plan: what changes, what is skipped and why. */
export function PlanView({ plan }: { plan: BulkPlan }) {
  return (
    <Stack gap="xs" data-testid="bulk-plan">
      <Group gap="xs">
        <Badge color="indigo" variant="light">
          {plan.counts.change.toLocaleString('en')} to change
        </Badge>
        <Badge color="gray" variant="light">
          {plan.counts.skip.toLocaleString('en')} skipped
        </Badge>
        <Text size="xs" c="dimmed">
          of {plan.item_count.toLocaleString('en')} selected
        </Text>
      </Group>
      {plan.skipped_by_reason.map((r) => (
        <Text key={`${r.code}${r.reason}`} size="xs" c="dimmed">
          Skipped {r.count.toLocaleString('en')}: {r.reason}
        </Text>
      ))}
      <ScrollArea.Autosize mah={320}>
        <Table striped verticalSpacing={4} fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Item</Table.Th>
              <Table.Th>Type</Table.Th>
              <Table.Th>Plan</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {plan.items.map((item) => (
              <Table.Tr key={item.id} data-testid="bulk-plan-row">
                <Table.Td>
                  <LongName maw={260}>{item.display_name}</LongName>
                </Table.Td>
                <Table.Td>{item.policy_type_label}</Table.Td>
                <Table.Td c={item.action === 'skip' ? 'dimmed' : undefined}>
                  {item.action === 'skip' ? `Skipped: ${item.reason}` : item.summary}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </ScrollArea.Autosize>
      {plan.items_truncated && (
        <Text size="xs" c="dimmed">
          The first {PREVIEW_ROWS} items are listed; the counts cover all {plan.item_count.toLocaleString('en')}.
        </Text>
      )}
    </Stack>
  )
}
