import { Anchor, Badge, Group, List, Select, Stack, Table, Text } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { EmptyText, ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
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
      {overview.isPending ? (
        <LoadingState label="Loading the overview" />
      ) : overview.isError ? (
        <ErrorState error={overview.error} />
      ) : overview.data.data.length === 0 ? (
        <EmptyText>
          {groupId ? 'No tenant of this group is yours.' : 'You are not a member of any tenant yet.'}
        </EmptyText>
      ) : (
        <Table.ScrollContainer minWidth={1100}>
          <Table verticalSpacing={6} striped data-testid="overview-table">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Tenant</Table.Th>
                <Table.Th>Needs attention</Table.Th>
                <Table.Th>Last successful sync</Table.Th>
                <Table.Th>Last sync run</Table.Th>
                <Table.Th>Permission gaps</Table.Th>
                <Table.Th>Changes (7 days)</Table.Th>
                <Table.Th>Newest backup</Table.Th>
                <Table.Th>Expiring credentials</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {overview.data.data.map((row) => (
                <OverviewTableRow key={row.tenant.id} row={row} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  )
}

function OverviewTableRow({ row }: { row: OverviewRow }) {
  const { tenant, sync } = row
  return (
    <Table.Tr data-testid="overview-row" data-health={row.health}>
      <Table.Td>
        <Group gap={8} wrap="nowrap">
          <HealthDot health={row.health} reasons={row.attention.map((a) => a.message)} />
          <Anchor component={Link} to={`/t/${tenant.id}`} fw={500} size="sm">
            <LongName maw={220}>{tenant.name}</LongName>
          </Anchor>
        </Group>
      </Table.Td>
      <Table.Td>
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
      </Table.Td>
      <Table.Td>
        <Anchor component={Link} to={sync.link} size="sm">
          {sync.last_success_at ? formatRelative(sync.last_success_at) : 'Never'}
        </Anchor>{' '}
        {sync.last_success_at && (
          <Badge size="xs" variant="light" color={sync.fresh ? 'green' : 'yellow'}>
            {sync.fresh ? 'fresh' : 'stale'}
          </Badge>
        )}
      </Table.Td>
      <Table.Td>
        {sync.last_run ? (
          <Anchor component={Link} to={sync.last_run.link} size="sm">
            <Badge size="sm" variant="light" color={OUTCOME_COLORS[sync.last_run.outcome ?? ''] ?? 'blue'}>
              {sync.last_run.outcome ? OUTCOME_LABELS[sync.last_run.outcome] : sync.last_run.status}
            </Badge>
          </Anchor>
        ) : (
          <Text size="sm" c="dimmed">
            None
          </Text>
        )}
      </Table.Td>
      <Table.Td>
        {row.permission_gaps.length === 0 ? (
          <Text size="sm" c="dimmed">
            None
          </Text>
        ) : (
          <Text size="xs">{row.permission_gaps.map((g) => g.permission).join(', ')}</Text>
        )}
      </Table.Td>
      <Table.Td>
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
      </Table.Td>
      <Table.Td>
        {row.newest_backup ? (
          <Anchor component={Link} to={row.newest_backup.link} size="sm">
            {formatRelative(row.newest_backup.created_at)}
          </Anchor>
        ) : (
          <Text size="sm" c="dimmed">
            None
          </Text>
        )}
      </Table.Td>
      <Table.Td>
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
      </Table.Td>
    </Table.Tr>
  )
}
