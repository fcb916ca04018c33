import { Anchor, Button, Group, Select, Stack, Table } from '@mantine/core'
import { useInfiniteQuery } from '@tanstack/react-query'
import { EmptyText, ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { elapsedMs, formatDateTime, formatDuration } from '../../lib/format.ts'
import { Link, useSearchParams } from '../../lib/router.tsx'
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

/** "1,204 processed · 3 created · 1 failed": the counts that matter in a list row. */
export function countsSummary(run: Pick<Run, 'summary_counts'>): string {
  const c = run.summary_counts
  const parts: string[] = []
  if (c.total !== undefined && c.total > 0)
    parts.push(`${(c.processed ?? 0).toLocaleString('en')} / ${c.total.toLocaleString('en')}`)
  else if (c.processed !== undefined) parts.push(`${c.processed.toLocaleString('en')} processed`)
  for (const key of ['created', 'updated', 'removed', 'failed', 'skipped'] as const) {
    const value = c[key]
    if (value) parts.push(`${value.toLocaleString('en')} ${key}`)
  }
  return parts.join(' · ') || '—'
}

export function OperationsPage({ tenant, me }: { tenant: MeTenant; me: Me }) {
  // Filters live in the query string: a filtered Monitoring view is a link.
  const [params, setParams] = useSearchParams()
  const filters: RunFilters = {
    type: params.get('type'),
    status: params.get('status') as RunStatus | null,
    outcome: params.get('outcome') as RunFilters['outcome'],
    initiator: params.get('initiator'),
  }
  const runs = useInfiniteQuery(runsQuery(tenant.id, filters))
  const { types } = useOperationTypes()
  const rows = runs.data?.pages.flatMap((page) => page.data) ?? []
  const set = (patch: Record<string, string | null>) => setParams(patch)

  return (
    <Stack gap="md">
      <PageTitle eyebrow="Monitoring">Operations</PageTitle>
      <Group gap="sm" align="flex-end">
        <Select
          label="Type"
          placeholder="Any type"
          clearable
          data={types.map((t) => ({ value: t.type, label: t.label }))}
          value={filters.type ?? null}
          onChange={(type) => set({ type })}
          w={180}
        />
        <Select
          label="Status"
          placeholder="Any status"
          clearable
          data={STATUSES}
          value={filters.status ?? null}
          onChange={(status) => set({ status: status })}
          w={160}
        />
        <Select
          label="Outcome"
          placeholder="Any outcome"
          clearable
          data={RUN_OUTCOMES.map((o) => ({ value: o, label: outcomeLabel(o) }))}
          value={filters.outcome ?? null}
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
          value={filters.initiator ?? null}
          onChange={(initiator) => set({ initiator })}
          w={160}
        />
      </Group>
      {runs.isPending ? (
        <LoadingState label="Loading operations" />
      ) : runs.isError ? (
        <ErrorState error={runs.error} />
      ) : (
        <>
          <Table.ScrollContainer minWidth={1000}>
            <Table data-testid="operations-table" striped highlightOnHover verticalSpacing="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Operation</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Outcome</Table.Th>
                  <Table.Th style={{ whiteSpace: 'nowrap' }}>Started by</Table.Th>
                  <Table.Th>Counts</Table.Th>
                  <Table.Th>Queued at</Table.Th>
                  <Table.Th>Duration</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {rows.map((run) => (
                  <Table.Tr key={run.id} data-testid="operation-row" data-run-id={run.id}>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      <Anchor component={Link} to={run.links.view} fw={500}>
                        {typeLabel(run)}
                      </Anchor>
                    </Table.Td>
                    <Table.Td>
                      <StatusBadge run={run} />
                    </Table.Td>
                    <Table.Td>
                      <OutcomeBadge run={run} />
                    </Table.Td>
                    <Table.Td style={{ whiteSpace: 'nowrap' }}>
                      <LongName maw={240}>{initiatorLabel(run)}</LongName>
                    </Table.Td>
                    <Table.Td data-testid="operation-counts">{countsSummary(run)}</Table.Td>
                    <Table.Td>{formatDateTime(run.created_at)}</Table.Td>
                    <Table.Td>
                      {run.completed_at
                        ? formatDuration(Date.parse(run.completed_at) - Date.parse(run.started_at ?? run.created_at))
                        : run.started_at
                          ? `${formatDuration(elapsedMs(run, Date.now()))} so far`
                          : '—'}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          {rows.length === 0 && <EmptyText>No operations match these filters.</EmptyText>}
          {runs.hasNextPage && (
            <Group justify="center">
              <Button variant="default" onClick={() => void runs.fetchNextPage()} loading={runs.isFetchingNextPage}>
                Load more
              </Button>
            </Group>
          )}
        </>
      )}
    </Stack>
  )
}
