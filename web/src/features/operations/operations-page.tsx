import { Anchor, Group, Select, Stack } from '@mantine/core'
import { useInfiniteQuery } from '@tanstack/react-query'
import { type Column, DataList, useListFilters } from '../../components/data-list.tsx'
import { PageTitle } from '../../components/states.tsx'
import { elapsedMs, formatDateTime, formatDuration } from '../../lib/format.ts'
import { Link } from '../../lib/router.tsx'
import { useOperationTypes } from '../../components/operation-types.ts'
import { initiatorLabel, outcomeLabel, RUN_OUTCOMES, typeLabel } from '../../lib/runs.ts'
import type { Me, MeTenant, Run, RunStatus } from '../../lib/types.ts'
import { type RunFilters, runsQuery } from './api.ts'
import { OutcomeBadge, StatusBadge } from './run-badges.tsx'
import { LongName } from '../../components/long-name.tsx'

const STATUSES: { value: RunStatus; label: string }[] = [
  { value: 'queued', label: 'Queued' },
  { value: 'running', label: 'Running' },
  { value: 'completed', label: 'Completed' },
]

/**
 * The counts that matter in a list row, saying what each counts: a run that works per type (an inventory
 * sync) counts types done, then objects ("40 / 40 types · objects: 292 created"), never one number beside
 * the other as if they were the same thing.
 */
export function countsSummary(run: Pick<Run, 'summary_counts'> & { units?: readonly unknown[] }): string {
  const c = run.summary_counts
  const perType = (run.units?.length ?? 0) > 0 && run.units?.length === c.total
  const parts: string[] = []
  if (c.total !== undefined && c.total > 0)
    parts.push(`${(c.processed ?? 0).toLocaleString('en')} / ${c.total.toLocaleString('en')}${perType ? ' types' : ''}`)
  else if (c.processed !== undefined) parts.push(`${c.processed.toLocaleString('en')} processed`)
  const objects: string[] = []
  for (const key of ['created', 'updated', 'removed', 'failed', 'skipped'] as const) {
    const value = c[key]
    if (value) objects.push(`${value.toLocaleString('en')} ${key}`)
  }
  if (perType && objects.length > 0) parts.push(`objects: ${objects.join(', ')}`)
  else parts.push(...objects)
  return parts.join(' · ') || '—'
}

const columns: Column<Run>[] = [
  {
    key: 'type',
    label: 'Operation',
    nowrap: true,
    cell: (run) => (
      <Anchor component={Link} to={run.links.view} fw={500}>
        {typeLabel(run)}
      </Anchor>
    ),
  },
  { key: 'status', label: 'Status', cell: (run) => <StatusBadge run={run} /> },
  { key: 'outcome', label: 'Outcome', cell: (run) => <OutcomeBadge run={run} /> },
  {
    key: 'initiator',
    label: 'Started by',
    nowrap: true,
    cell: (run) => <LongName maw={240}>{initiatorLabel(run)}</LongName>,
  },
  { key: 'counts', label: 'Counts', testId: 'operation-counts', cell: (run) => countsSummary(run) },
  { key: 'queued', label: 'Queued at', cell: (run) => formatDateTime(run.created_at) },
  {
    key: 'duration',
    label: 'Duration',
    cell: (run) =>
      run.completed_at
        ? formatDuration(Date.parse(run.completed_at) - Date.parse(run.started_at ?? run.created_at))
        : run.started_at
          ? `${formatDuration(elapsedMs(run, Date.now()))} so far`
          : '—',
  },
]

export function OperationsPage({ tenant, me }: { tenant: MeTenant; me: Me }) {
  // Filters live in the query string: a filtered Monitoring view is a link.
  const filters = useListFilters(['type', 'status', 'outcome', 'initiator'] as const)
  const { set } = filters
  const values: RunFilters = {
    type: filters.values.type,
    status: filters.values.status as RunStatus | null,
    outcome: filters.values.outcome as RunFilters['outcome'],
    initiator: filters.values.initiator,
  }
  const runs = useInfiniteQuery(runsQuery(tenant.id, values))
  const { types } = useOperationTypes()
  const rows = runs.data?.pages.flatMap((page) => page.data) ?? []

  return (
    <Stack gap="md">
      <PageTitle eyebrow="Monitoring">Operations</PageTitle>
      <Group gap="sm" align="flex-end">
        <Select
          label="Type"
          placeholder="Any type"
          clearable
          data={types.map((t) => ({ value: t.type, label: t.label }))}
          value={values.type ?? null}
          onChange={(type) => set({ type })}
          w={180}
        />
        <Select
          label="Status"
          placeholder="Any status"
          clearable
          data={STATUSES}
          value={values.status ?? null}
          onChange={(status) => set({ status: status })}
          w={160}
        />
        <Select
          label="Outcome"
          placeholder="Any outcome"
          clearable
          data={RUN_OUTCOMES.map((o) => ({ value: o, label: outcomeLabel(o) }))}
          value={values.outcome ?? null}
          onChange={(outcome) => set({ outcome: outcome })}
          w={190}
        />
        <Select
          label="Started by"
          placeholder="Anyone"
          clearable
          data={[
            { value: me.user.id, label: 'Me' },
            { value: 'system', label: 'System' },
          ]}
          value={values.initiator ?? null}
          onChange={(initiator) => set({ initiator })}
          w={160}
        />
      </Group>
      <DataList
        rows={rows}
        rowKey={(run) => run.id}
        columns={columns}
        query={runs}
        testId="operations-table"
        rowTestId="operation-row"
        rowProps={(run) => ({ 'data-run-id': run.id })}
        loadingLabel="Loading operations"
        minWidth={1000}
        empty="No operations yet: a sync, a backup or a restore shows up here when it starts."
        filtered={filters.active}
        filteredEmpty="No operations match these filters."
        onClearFilters={filters.clear}
      />
    </Stack>
  )
}
