import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  Code,
  Group,
  Progress,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Tabs,
  Text,
  Title,
} from '@mantine/core'
import { DataList } from '../../components/data-list.tsx'
import { BulkUndo } from './bulk-undo.tsx'
import { notifications } from '@mantine/notifications'
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { policyTypesQuery, showSyncToast } from '../../components/inventory-sync.tsx'
import { useLiveRuns, useNow } from '../../components/live-runs.tsx'
import { useOperationTypes } from '../../components/operation-types.ts'
import { ErrorState, LoadingState } from '../../components/states.tsx'
import { ApiError, errorMessage } from '../../lib/api.ts'
import { elapsedMs, formatDateTime, formatDuration, formatShortDuration } from '../../lib/format.ts'
import { progressOf } from '../../lib/progress.ts'
import { Link } from '../../lib/router.tsx'
import {
  countLabel,
  codeLabel,
  describeSelection,
  groupFailures,
  inputLines,
  failureFix,
  initiatorLabel,
  orderedCounts,
  selectionOf,
  typeLabel,
} from '../../lib/runs.ts'
import type { Me, MeTenant, PolicyType, Run, RunItemStatus } from '../../lib/types.ts'
import { cancelRun, rerunRun, runItemsQuery, runQuery } from './api.ts'
import { OutcomeBadge, StatusBadge } from './run-badges.tsx'
import { LongName } from '../../components/long-name.tsx'

export function RunPage({ tenant, runId }: { tenant: MeTenant; me: Me; runId: string }) {
  const run = useQuery({
    ...runQuery(tenant.id, runId),
    // The live stream writes every change into this query; this is the safety net if it drops.
    refetchInterval: (query) => (query.state.data && query.state.data.status !== 'completed' ? 5_000 : false),
  })
  const catalog = useQuery(policyTypesQuery(tenant.id))

  if (run.isPending) return <LoadingState label="Loading the run" />
  if (run.isError) {
    const missing = run.error instanceof ApiError && run.error.status === 404
    return <ErrorState error={run.error} title={missing ? 'Run not found' : 'Could not load the run'} />
  }
  return <RunView run={run.data} tenant={tenant} catalog={catalog.data?.data ?? []} />
}

/**
 * One run of any type: what it may do comes from the run's `abilities`, its label, description
 * and failure fixes from the operation types the server describes; a type the server does not
 * know still renders, as "Unknown operation".
 */
function RunView({ run, tenant, catalog }: { run: Run; tenant: MeTenant; catalog: PolicyType[] }) {
  const queryClient = useQueryClient()
  const live = useLiveRuns()
  const now = useNow(1000)
  const type = useOperationTypes().typeOf(run.type)
  const selection = selectionOf(run)
  const active = run.status !== 'completed'
  const progress = progressOf(run.summary_counts)
  const rerun = useMutation({
    mutationFn: () => rerunRun(tenant.id, run.id),
    onSuccess: (started) => {
      showSyncToast(started)
      live?.refresh()
      void queryClient.invalidateQueries({ queryKey: ['runs', tenant.id] })
    },
    onError: (error) => notifications.show({ title: 'Could not re-run', message: errorMessage(error), color: 'red' }),
  })
  const cancel = useMutation({
    mutationFn: () => cancelRun(tenant.id, run.id),
    onSuccess: (updated) => {
      queryClient.setQueryData(['run', tenant.id, run.id], updated)
      notifications.show({
        title: updated.status === 'completed' ? 'Run cancelled' : 'Cancelling…',
        message: 'The run stops at its next checkpoint.',
        color: 'gray',
      })
    },
    onError: (error) => notifications.show({ title: 'Could not cancel', message: errorMessage(error), color: 'red' }),
  })
  const duration = run.completed_at
    ? formatDuration(Date.parse(run.completed_at) - Date.parse(run.started_at ?? run.created_at))
    : run.started_at
      ? `${formatDuration(elapsedMs(run, now))} so far`
      : `queued for ${formatDuration(now - Date.parse(run.created_at))}`
  const typeName = (key: string) => catalog.find((t) => t.key === key)?.label ?? key

  return (
    <Stack gap="md" data-testid="run-detail">
      <Group justify="space-between" align="flex-start">
        <div>
          <Anchor component={Link} to={`/t/${tenant.id}/operations`} size="sm">
            ← Operations
          </Anchor>
          <Group gap="sm" mt={4}>
            <Title order={2}>{typeLabel(run)}</Title>
            <StatusBadge run={run} />
            <OutcomeBadge run={run} />
          </Group>
          {type && (
            <Text size="sm" c="dimmed" mt={2}>
              {type.description}
            </Text>
          )}
        </div>
        <Group gap="xs">
          {run.abilities.cancel && (
            <Button
              color="red"
              variant="light"
              onClick={() => cancel.mutate()}
              loading={cancel.isPending}
              disabled={run.cancel_requested}
            >
              {run.cancel_requested ? 'Cancelling…' : 'Cancel'}
            </Button>
          )}
          {run.abilities.rerun && (
            <Button variant="default" onClick={() => rerun.mutate()} loading={rerun.isPending}>
              Re-run
            </Button>
          )}
          <BulkUndo tenant={tenant} run={run} />
        </Group>
      </Group>

      {active && (
        <Card withBorder>
          {progress.determinate ? (
            <>
              <Progress value={progress.percent} aria-label="Run progress" />
              <Text size="sm" mt={4}>
                {progress.label} ({progress.percent}%)
              </Text>
            </>
          ) : (
            <>
              <Progress.Root>
                <Progress.Section value={100} striped animated aria-label="In progress, total not known yet" />
              </Progress.Root>
              <Text size="sm" mt={4} c="dimmed">
                {progress.label ?? 'Waiting for the first counts…'}
              </Text>
            </>
          )}
        </Card>
      )}

      <Card withBorder>
        <SimpleGrid cols={{ base: 2, md: 4 }} spacing="md" verticalSpacing="sm">
          <Field label="Started by">
            <LongName maw="100%">{initiatorLabel(run)}</LongName>
          </Field>
          <Field label="Queued at">{formatDateTime(run.created_at)}</Field>
          <Field label="Started at">{formatDateTime(run.started_at)}</Field>
          <Field label="Completed at">{formatDateTime(run.completed_at)}</Field>
          <Field label="Duration">{duration}</Field>
          <Field label="Attempt">{run.attempt}</Field>
          {selection ? (
            <Field label="Selection" span>
              {describeSelection(selection, catalog)}
            </Field>
          ) : (
            Object.keys(run.context).length > 0 && (
              <Field label="Input" span>
                <RunInput context={run.context} />
              </Field>
            )
          )}
        </SimpleGrid>
      </Card>

      <Tabs defaultValue="overview" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="overview">Overview</Tabs.Tab>
          <Tabs.Tab value="items">Items</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="overview" pt="md">
          <Stack gap="md">
            <Card withBorder>
              <Title order={3} size="h5" mb="xs">
                Counts
              </Title>
              {orderedCounts(run.summary_counts).length === 0 ? (
                <Text c="dimmed" size="sm">
                  No counts yet.
                </Text>
              ) : (
                <Group gap="xl">
                  {orderedCounts(run.summary_counts).map(([key, value]) => (
                    <div key={key} data-testid={`run-count-${key}`}>
                      <Text size="xs" c="dimmed">
                        {countLabel(key)}
                      </Text>
                      <Text fw={600} size="lg">
                        {value.toLocaleString('en')}
                      </Text>
                    </div>
                  ))}
                </Group>
              )}
            </Card>

            {run.failures.length > 0 && (
              <Card withBorder>
                <Title order={3} size="h5" mb="xs">
                  Problems ({run.failures.length})
                </Title>
                <Stack gap="xs">
                  {/* One box per problem: a missing permission is said once, with every type it kept out. */}
                  {groupFailures(run.failures, (f) => failureFix(f, type)).map((group) => {
                    const gap = group.code === 'missing_permission'
                    const subjects = group.failures.map((f) => f.subject).filter((s): s is string => Boolean(s))
                    return (
                      <Alert
                        key={`${group.code}-${group.fix ?? group.failures[0]!.message}`}
                        color={gap ? 'yellow' : 'red'}
                        variant="light"
                        data-testid="run-failure"
                        title={
                          subjects.length === 1 && group.failures.length === 1
                            ? `${codeLabel(group.code)}: ${typeName(subjects[0]!)}`
                            : codeLabel(group.code)
                        }
                      >
                        <Text size="sm">{group.failures[0]!.message}</Text>
                        {subjects.length > 1 && (
                          <Text size="sm" c="dimmed" mt={4} data-testid="run-failure-subjects">
                            Affects {subjects.length}: {subjects.map(typeName).join(', ')}
                          </Text>
                        )}
                        {group.fix && (
                          <Text size="sm" fw={500} mt={4} data-testid="run-failure-fix">
                            Fix: {group.fix}
                          </Text>
                        )}
                      </Alert>
                    )
                  })}
                </Stack>
              </Card>
            )}

            {run.units.length > 0 && (
              <Card withBorder>
                <Title order={3} size="h5" mb="xs">
                  Results per type ({run.units.length})
                </Title>
                <DataList
                  rows={run.units}
                  rowKey={(unit) => unit.key}
                  testId="run-units"
                  minWidth={700}
                  verticalSpacing={4}
                  empty="No types."
                  columns={[
                    { key: 'type', label: 'Type', cell: (unit) => typeName(unit.key) },
                    {
                      key: 'result',
                      label: 'Result',
                      cell: (unit) => (
                        <>
                          <ResultBadge status={unit.status} />
                        </>
                      ),
                    },
                    {
                      key: 'counts',
                      label: 'Counts',
                      cell: (unit) => (
                        <>
                          <Text size="sm">
                            {orderedCounts(unit.counts)
                              .map(([k, v]) => `${v.toLocaleString('en')} ${k}`)
                              .join(' · ') || '—'}
                          </Text>
                        </>
                      ),
                    },
                    { key: 'duration', label: 'Duration', cell: (unit) => formatShortDuration(unit.duration_ms) },
                    {
                      key: 'error',
                      label: 'Error',
                      cell: (unit) => (
                        <>
                          <Problem code={unit.error?.code} message={unit.error?.message} />
                        </>
                      ),
                    },
                  ]}
                />
              </Card>
            )}
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="items" pt="md">
          <RunItems tenantId={tenant.id} runId={run.id} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  )
}

type ItemFilter = NonNullable<Parameters<typeof runItemsQuery>[2]> | 'all'
/** The writes first (ADR 026); blocked objects apart from the plain skips. */
const ITEM_FILTERS: { value: ItemFilter; label: string }[] = [
  { value: 'written', label: 'Written' },
  { value: 'failed', label: 'Failed' },
  { value: 'blocked', label: 'Blocked' },
  { value: 'skipped', label: 'Skipped' },
  { value: 'all', label: 'All' },
]
const EMPTY: Record<ItemFilter, string> = {
  written: 'This run wrote nothing.',
  failed: 'Nothing failed.',
  blocked: 'Nothing was blocked.',
  skipped: 'Nothing was skipped.',
  succeeded: 'Nothing succeeded.',
  all: 'This run recorded no per-item results.',
}
const ACTION_LABELS: Record<string, string> = {
  create: 'Create',
  update: 'Update',
  delete: 'Delete',
  skip: 'Skip',
  blocked: 'Blocked',
}
const actionLabel = (action: string) => ACTION_LABELS[action] ?? action.replace(/[_.]/g, ' ')
const RESULT_COLORS: Record<RunItemStatus, string> = { succeeded: 'teal', failed: 'red', skipped: 'gray' }

/** The result of a unit or an item. */
const ResultBadge = ({ status }: { status: RunItemStatus }) => (
  <Badge size="sm" variant="light" color={RESULT_COLORS[status]}>
    {status}
  </Badge>
)

/** A unit's or an item's problem: its code in words and its message, or a dash. */
const Problem = ({ code, message }: { code: string | null | undefined; message: string | null | undefined }) =>
  code ? (
    <Text size="sm">
      <Text span fw={500} inherit>
        {codeLabel(code)}:
      </Text>{' '}
      {message}
    </Text>
  ) : (
    '—'
  )

/** A run's input as labelled lines (no digests); its JSON behind "show raw". */
function RunInput({ context }: { context: Record<string, unknown> }) {
  const [raw, setRaw] = useState(false)
  return (
    <Stack gap={2} data-testid="run-input">
      {inputLines(context).map((line) => (
        <Text size="sm" key={line.label}>
          <Text span c="dimmed" inherit>
            {line.label}:
          </Text>{' '}
          {line.value}
        </Text>
      ))}
      <Anchor component="button" type="button" size="xs" c="dimmed" w="fit-content" onClick={() => setRaw(!raw)}>
        {raw ? 'hide raw' : 'show raw'}
      </Anchor>
      {raw && (
        <Code block data-testid="run-input-raw">
          {JSON.stringify(context, null, 2)}
        </Code>
      )}
    </Stack>
  )
}

/** The run's per-item results (any type that records them), filtered by status, a keyset page at a time. */
function RunItems({ tenantId, runId }: { tenantId: string; runId: string }) {
  const [filter, setFilter] = useState<ItemFilter>('written')
  const items = useInfiniteQuery(runItemsQuery(tenantId, runId, filter === 'all' ? null : filter))
  const catalog = useQuery(policyTypesQuery(tenantId))
  const labels = new Map((catalog.data?.data ?? []).map((t) => [t.key, t.label]))
  const rows = items.data?.pages.flatMap((page) => page.data) ?? []
  return (
    <Stack gap="sm">
      <SegmentedControl
        aria-label="Which items"
        data={ITEM_FILTERS}
        value={filter}
        onChange={(value) => setFilter(value)}
        w="fit-content"
        data-testid="run-items-filter"
      />
      <DataList
        rows={rows}
        rowKey={(item) => item.id}
        testId="run-items-table"
        rowTestId="run-item"
        minWidth={700}
        query={items}
        loadingLabel="Loading the items"
        verticalSpacing={4}
        empty={EMPTY[filter]}
        columns={[
          {
            key: 'target',
            label: 'Target',
            cell: (item) => (
              <>
                <Text size="sm" truncate="end" maw={360} title={item.target.name}>
                  {item.target.name}
                </Text>
              </>
            ),
          },
          { key: 'type', label: 'Type', cell: (item) => labels.get(item.target.type) ?? item.target.type },
          { key: 'action', label: 'Action', cell: (item) => actionLabel(item.action) },
          {
            key: 'result',
            label: 'Result',
            cell: (item) => (
              <>
                {item.code === 'blocked' ? (
                  <Badge size="sm" variant="light" color="red">
                    blocked
                  </Badge>
                ) : (
                  <ResultBadge status={item.status} />
                )}
              </>
            ),
          },
          {
            key: 'problem',
            label: 'Problem',
            cell: (item) => (
              <>
                {item.code === 'blocked' ? (
                  <Text size="sm">{item.message}</Text>
                ) : (
                  <Problem code={item.code} message={item.message} />
                )}
              </>
            ),
          },
        ]}
      />
    </Stack>
  )
}

function Field({ label, children, span }: { label: string; children: React.ReactNode; span?: boolean }) {
  return (
    <div style={span ? { gridColumn: '1 / -1' } : undefined}>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" component="div">
        {children}
      </Text>
    </div>
  )
}
