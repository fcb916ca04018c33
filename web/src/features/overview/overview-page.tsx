import { Anchor, Badge, Group, List, Select, Stack, Text } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { type Column, DataList } from '../../components/data-list.tsx'
import { PageTitle } from '../../components/states.tsx'
import { LongName } from '../../components/long-name.tsx'
import { formatRelative } from '../../lib/format.ts'
import { Link, useSearchParams } from '../../lib/router.tsx'
import type { OverviewRow } from '../../lib/types.ts'
import { overviewQuery, tenantGroupsQuery } from './api.ts'
import { HealthDot } from './health-dot.tsx'

const OUTCOME_COLORS: Record<string, string> = {
  succeeded: 'green',
  partially_succeeded: 'yellow',
  failed: 'red',
  cancelled: 'gray',
}
const OUTCOME_LABELS: Record<string, string> = {
  succeeded: 'Succeeded',
  partially_succeeded: 'Partial',
  failed: 'Failed',
  cancelled: 'Cancelled',
}

/** `/overview`: every tenant the user can see, in the order the server sorted them (what needs attention first). */
export function OverviewPage() {
  const [params, setParams] = useSearchParams()
  const groupId = params.get('group')
  const groups = useQuery(tenantGroupsQuery)
  const overview = useQuery(overviewQuery(groupId))

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle eyebrow="All tenants">Overview</PageTitle>
        <Anchor component={Link} to="/compare" data-testid="open-compare">
          Compare tenants
        </Anchor>
        <Select
          label="Tenant group"
          placeholder="All tenants"
          clearable
          searchable
          w={260}
          data={(groups.data?.data ?? []).map((g) => ({ value: g.id, label: `${g.name} (${g.tenant_ids.length})` }))}
          value={groupId}
          onChange={(value) => setParams({ group: value })}
          data-testid="overview-group-filter"
        />
      </Group>
      <DataList
        rows={overview.data?.data ?? []}
        rowKey={(row) => row.tenant.id}
        query={overview}
        testId="overview-table"
        rowTestId="overview-row"
        rowProps={(row) => ({ 'data-health': row.health })}
        loadingLabel="Loading the overview"
        minWidth={1100}
        empty="You are not a member of any tenant yet."
        filtered={Boolean(groupId)}
        filteredEmpty="No tenant of this group is yours."
        onClearFilters={() => setParams({ group: null })}
        columns={overviewColumns}
      />
    </Stack>
  )
}

const overviewColumns: Column<OverviewRow>[] = [
  {
    key: 'tenant',
    label: 'Tenant',
    cell: (row) => (
      <>
        <Group gap={8} wrap="nowrap">
          <HealthDot health={row.health} reasons={row.attention.map((a) => a.message)} />
          <Anchor component={Link} to={`/t/${row.tenant.id}`} fw={500} size="sm">
            <LongName maw={220}>{row.tenant.name}</LongName>
          </Anchor>
        </Group>
      </>
    ),
  },
  {
    key: 'needs-attention',
    label: 'Needs attention',
    cell: (row) => (
      <>
        {row.attention.length === 0 ? (
          <Text size="sm" c="dimmed">
            Nothing
          </Text>
        ) : (
          <List size="xs" spacing={2}>
            {row.attention.map((a) => (
              <List.Item key={`${a.code}-${a.message}`} c={a.severity === 'critical' ? 'red' : undefined}>
                {a.message}
              </List.Item>
            ))}
          </List>
        )}
      </>
    ),
  },
  {
    key: 'last-successful-sync',
    label: 'Last successful sync',
    cell: (row) => (
      <>
        <Anchor component={Link} to={row.sync.link} size="sm">
          {row.sync.last_success_at ? formatRelative(row.sync.last_success_at) : 'Never'}
        </Anchor>{' '}
        {row.sync.last_success_at && (
          <Badge size="xs" variant="light" color={row.sync.fresh ? 'green' : 'yellow'}>
            {row.sync.fresh ? 'fresh' : 'stale'}
          </Badge>
        )}
      </>
    ),
  },
  {
    key: 'last-sync-run',
    label: 'Last sync run',
    cell: (row) => (
      <>
        {row.sync.last_run ? (
          <Anchor component={Link} to={row.sync.last_run.link} size="sm">
            <Badge size="sm" variant="light" color={OUTCOME_COLORS[row.sync.last_run.outcome ?? ''] ?? 'blue'}>
              {row.sync.last_run.outcome ? OUTCOME_LABELS[row.sync.last_run.outcome] : row.sync.last_run.status}
            </Badge>
          </Anchor>
        ) : (
          <Text size="sm" c="dimmed">
            None
          </Text>
        )}
      </>
    ),
  },
  {
    key: 'permission-gaps',
    label: 'Permission gaps',
    cell: (row) => (
      <>
        {row.permission_gaps.length === 0 ? (
          <Text size="sm" c="dimmed">
            None
          </Text>
        ) : (
          <Text size="xs">{row.permission_gaps.map((g) => g.permission).join(', ')}</Text>
        )}
      </>
    ),
  },
  {
    key: 'changes-7-days',
    label: 'Changes (7 days)',
    cell: (row) => (
      <>
        <Anchor component={Link} to={row.changes_7d.link} size="sm">
          {row.changes_7d.count}
        </Anchor>
        {row.changes_7d.by.length > 0 && (
          <Text size="xs" c="dimmed">
            by{' '}
            {row.changes_7d.by
              .slice(0, 2)
              .map((b) => b.name)
              .join(', ')}
            {row.changes_7d.by.length > 2 ? ` and ${row.changes_7d.by.length - 2} more` : ''}
          </Text>
        )}
      </>
    ),
  },
  {
    key: 'newest-backup',
    label: 'Newest backup',
    cell: (row) => (
      <>
        {row.newest_backup ? (
          <Anchor component={Link} to={row.newest_backup.link} size="sm">
            {formatRelative(row.newest_backup.created_at)}
          </Anchor>
        ) : (
          <Text size="sm" c="dimmed">
            None
          </Text>
        )}
      </>
    ),
  },
  {
    key: 'expiring-credentials',
    label: 'Expiring credentials',
    cell: (row) => (
      <>
        {row.expiring_credentials.length === 0 ? (
          <Text size="sm" c="dimmed">
            None
          </Text>
        ) : (
          row.expiring_credentials.map((c) => (
            <Anchor key={c.item_id} component={Link} to={c.link} size="xs" display="block">
              {c.display_name}: {c.expires_at.slice(0, 10)}
            </Anchor>
          ))
        )}
      </>
    ),
  },
]
