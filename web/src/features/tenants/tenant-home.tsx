import { Alert, Anchor, Button, Card, Code, Group, SimpleGrid, Stack, Text, Title } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { DataList } from '../../components/data-list.tsx'
import { useStartInventorySync } from '../../components/inventory-sync.tsx'
import { ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { api } from '../../lib/api.ts'
import { can } from '../../lib/capabilities.ts'
import { formatDateTime } from '../../lib/format.ts'
import { Link } from '../../lib/router.tsx'
import { initiatorLabel, outcomeLabel, typeLabel } from '../../lib/runs.ts'
import type { MeTenant, Page, Run } from '../../lib/types.ts'
import { tenantQuery } from './api.ts'
import { DocsExportCard } from '../../components/docs-export.tsx'

/** `/t/{tenantId}`: the tenant at a glance and the ways on. */
export function TenantHome({ tenant }: { tenant: MeTenant }) {
  const details = useQuery(tenantQuery(tenant.id))
  const recent = useQuery({
    queryKey: ['runs', tenant.id, 'recent'],
    queryFn: ({ signal }) =>
      api<Page<Run>>(`/api/tenants/${tenant.id}/operation-runs`, { signal, query: { limit: 5 } }),
    enabled: can(tenant, 'operations.view'),
  })
  // A tenant never synced is empty everywhere: its first sync is offered here, one click (issue 24).
  const syncs = useQuery({
    queryKey: ['runs', tenant.id, 'first-sync'],
    queryFn: ({ signal }) =>
      api<Page<Run>>(`/api/tenants/${tenant.id}/operation-runs`, {
        signal,
        query: { type: 'inventory.sync', limit: 1 },
      }),
    enabled: can(tenant, 'inventory.sync'),
  })
  const start = useStartInventorySync(tenant.id)
  return (
    <Stack gap="md">
      <PageTitle eyebrow={<>Your role: {tenant.role}</>}>{tenant.name}</PageTitle>
      {syncs.data && syncs.data.data.length === 0 && (
        <Alert title="This tenant has not been synced yet" data-testid="first-sync">
          <Stack gap="xs" align="flex-start">
            <Text size="sm">
              The first inventory sync reads every supported policy type from Microsoft Graph; the inventory, changes,
              backups and restores start from it.
            </Text>
            <Button loading={start.isPending} onClick={() => start.mutate(undefined)} data-testid="start-first-sync">
              Run the first inventory sync
            </Button>
          </Stack>
        </Alert>
      )}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <DocsExportCard tenant={tenant} />
        <Card withBorder>
          <Title order={3} size="h5" mb="xs">
            Connection
          </Title>
          {details.isPending ? (
            <LoadingState />
          ) : details.isError ? (
            <ErrorState error={details.error} />
          ) : (
            <Stack gap={4}>
              <Text size="sm">
                Cloud: <b>{details.data.cloud}</b>
              </Text>
              <Text size="sm">
                Entra tenant id: <Code>{details.data.entra_tenant_id}</Code>
              </Text>
              <Text size="sm">
                Client id: <Code>{details.data.client_id}</Code>
              </Text>
              {can(tenant, 'tenant.manage') && (
                <Anchor component={Link} to="/admin/tenants" size="sm">
                  Edit or check the connection
                </Anchor>
              )}
            </Stack>
          )}
        </Card>
        <Card withBorder>
          <Title order={3} size="h5" mb="xs">
            Go to
          </Title>
          <Stack gap={4}>
            <Anchor component={Link} to={`/t/${tenant.id}/inventory`}>
              Inventory{can(tenant, 'inventory.sync') ? ' (and run an inventory sync)' : ''}
            </Anchor>
            {can(tenant, 'operations.view') && (
              <Anchor component={Link} to={`/t/${tenant.id}/operations`}>
                Monitoring → Operations
              </Anchor>
            )}
            {can(tenant, 'audit.view') && (
              <Anchor component={Link} to={`/t/${tenant.id}/audit`}>
                Audit trail
              </Anchor>
            )}
            {can(tenant, 'members.manage') && (
              <Anchor component={Link} to={`/t/${tenant.id}/members`}>
                Members
              </Anchor>
            )}
          </Stack>
        </Card>
      </SimpleGrid>
      {can(tenant, 'operations.view') && (
        <Card withBorder>
          <Group justify="space-between" mb="xs">
            <Title order={3} size="h5">
              Recent operations
            </Title>
            <Anchor component={Link} to={`/t/${tenant.id}/operations`} size="sm">
              All operations
            </Anchor>
          </Group>
          <DataList
            rows={recent.data?.data ?? []}
            rowKey={(run) => run.id}
            query={recent}
            testId="recent-runs"
            verticalSpacing={4}
            empty="No operations yet."
            columns={[
              {
                key: 'operation',
                label: 'Operation',
                cell: (run) => (
                  <>
                    <Anchor component={Link} to={run.links.view} size="sm">
                      {typeLabel(run)}
                    </Anchor>
                  </>
                ),
              },
              {
                key: 'result',
                label: 'Result',
                cell: (run) => (run.outcome ? outcomeLabel(run.outcome) : run.status_label),
              },
              { key: 'started-by', label: 'Started by', cell: (run) => initiatorLabel(run) },
              { key: 'queued-at', label: 'Queued at', cell: (run) => formatDateTime(run.created_at) },
            ]}
          />
        </Card>
      )}
    </Stack>
  )
}
