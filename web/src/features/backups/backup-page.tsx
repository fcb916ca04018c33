import {
  Anchor,
  Badge,
  Button,
  Code,
  Grid,
  Group,
  NavLink,
  ScrollArea,
  Select,
  Stack,
  Switch,
  Text,
  TextInput,
  Title,
} from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { EmptyText, ErrorState, LoadingState, PageTitle } from '../../components/states.tsx'
import { errorMessage } from '../../lib/api.ts'
import { can } from '../../lib/capabilities.ts'
import { formatDateTime } from '../../lib/format.ts'
import { Link, navigate } from '../../lib/router.tsx'
import type { BackupSet, MeTenant } from '../../lib/types.ts'
import { DiffView } from '../../components/diff-view.tsx'
import { createRestorePlan } from '../../lib/restore-plans.ts'
import { ConfirmWrite } from '../../components/confirm-write.tsx'
import { backupItemQuery, backupItemsQuery, backupQuery, deleteBackup, exportUrl, updateBackup } from './api.ts'
import { STATUS_COLORS } from './backups-page.tsx'
import { wrapAnywhere } from '../../components/long-name.tsx'
import { codeLabel, inputLines } from '../../lib/runs.ts'
import { policyTypesQuery } from '../../components/inventory-sync.tsx'

/** The fields of a saved object an admin reads: Graph's ids, odata annotations and counters left out. */
const readablePayload = (payload: Record<string, unknown>) =>
  Object.fromEntries(
    Object.entries(payload).filter(
      ([key]) =>
        !key.startsWith('@odata') && !['id', 'version', 'createdDateTime', 'lastModifiedDateTime'].includes(key),
    ),
  )

/** `/t/{tenantId}/backups/{backupId}`: a set's contents by type with search; for any object its content and a diff against the tenant's current version. */
/** An import's source: a tenant only when the file's signature proves it; otherwise what the file claims (issue 22). */
function importedFrom(b: BackupSet): string {
  if (b.source.verified && b.source_tenant) return `imported from ${b.source_tenant.name}`
  return b.source.claimed
    ? `imported; the file claims it is from "${b.source.claimed.name}" (not verified)`
    : 'imported'
}

export function BackupPage({
  tenant,
  backupId,
  tenants = [tenant],
}: {
  tenant: MeTenant
  backupId: string
  tenants?: readonly MeTenant[]
}) {
  const queryClient = useQueryClient()
  const backup = useQuery(backupQuery(tenant.id, backupId))
  const [type, setType] = useState<string | null>(null)
  const [q, setQ] = useState('')
  const [selected, setSelected] = useState<{ type: string; id: string } | null>(null)
  const items = useQuery({ ...backupItemsQuery(tenant.id, backupId, { type, q }), enabled: backup.isSuccess })
  const catalog = useQuery(policyTypesQuery(tenant.id))
  const labels = new Map((catalog.data?.data ?? []).map((t) => [t.key, t.label]))
  const typeLabel = (key: string) => labels.get(key) ?? key
  const manage = can(tenant, 'backups.manage')
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['backups', tenant.id] })
  const protect = useMutation({
    mutationFn: (value: boolean) => updateBackup(tenant.id, backupId, { protected: value }),
    onSuccess: refresh,
    onError: (error) =>
      notifications.show({ title: 'Could not change the backup', message: errorMessage(error), color: 'red' }),
  })
  const [confirmDelete, setConfirmDelete] = useState(false)
  const remove = useMutation({
    mutationFn: () => deleteBackup(tenant.id, backupId),
    onSuccess: async () => {
      const name = backup.data?.name ?? 'The backup'
      setConfirmDelete(false)
      await refresh()
      notifications.show({
        title: 'Backup deleted',
        message: `"${name}" and its ${backup.data?.item_count ?? 0} saved objects are gone; the tenant itself was not changed.`,
        color: 'teal',
      })
      navigate(`/t/${tenant.id}/backups`)
    },
    onError: (error) =>
      notifications.show({ title: 'Could not delete the backup', message: errorMessage(error), color: 'red' }),
  })

  // Restore (issue 15): into this tenant or another one the member may restore into.
  const restoreTargets = tenants.filter((t) => can(t, 'restore.execute'))
  const [restoreInto, setRestoreInto] = useState<string | null>(null)
  const restore = useMutation({
    mutationFn: (targetId: string) => createRestorePlan(targetId, { backup_id: backupId }),
    onSuccess: (plan) => navigate(`/t/${plan.target_tenant_id}/restore/${plan.id}`),
    onError: (error) =>
      notifications.show({ title: 'Could not plan the restore', message: errorMessage(error), color: 'red' }),
  })

  if (backup.isPending) return <LoadingState label="Loading the backup" />
  if (backup.isError) return <ErrorState error={backup.error} />
  const b = backup.data
  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle
          eyebrow={
            <Anchor component={Link} to={`/t/${tenant.id}/backups`}>
              Backups
            </Anchor>
          }
        >
          {b.name}
        </PageTitle>
        <Group>
          {manage && (b.status === 'complete' || b.status === 'partial') && (
            <Button component="a" href={exportUrl(tenant.id, b.id)} variant="default" data-testid="export-backup">
              Export ZIP
            </Button>
          )}
          {restoreTargets.length > 0 && (b.status === 'complete' || b.status === 'partial') && (
            <Group gap={4}>
              {restoreTargets.length > 1 && (
                <Select
                  size="sm"
                  w={200}
                  aria-label="Restore into"
                  data={restoreTargets.map((t) => ({
                    value: t.id,
                    label: t.id === tenant.id ? `${t.name} (this tenant)` : t.name,
                  }))}
                  value={
                    restoreInto ?? (restoreTargets.some((t) => t.id === tenant.id) ? tenant.id : restoreTargets[0]!.id)
                  }
                  onChange={setRestoreInto}
                  allowDeselect={false}
                />
              )}
              <Button
                data-testid="plan-restore"
                loading={restore.isPending}
                onClick={() =>
                  restore.mutate(
                    restoreInto ?? (restoreTargets.some((t) => t.id === tenant.id) ? tenant.id : restoreTargets[0]!.id),
                  )
                }
              >
                Plan restore
              </Button>
            </Group>
          )}
          {manage && (
            <Switch label="Protected" checked={b.protected} onChange={(e) => protect.mutate(e.currentTarget.checked)} />
          )}
          {manage && (
            <Button
              color="red"
              variant="subtle"
              disabled={b.protected}
              title={b.protected ? 'A protected backup cannot be deleted' : undefined}
              onClick={() => setConfirmDelete(true)}
              data-testid="delete-backup"
            >
              Delete…
            </Button>
          )}
          <ConfirmWrite
            opened={confirmDelete}
            title="Delete this backup?"
            typed={b.name}
            typedLabel={`Type the backup's name (${b.name}) to delete it`}
            confirmLabel="Delete backup"
            color="red"
            pending={remove.isPending}
            onClose={() => setConfirmDelete(false)}
            onConfirm={() => remove.mutate()}
            testId="confirm-delete-backup"
          >
            {`Delete "${b.name}" with its ${b.item_count} saved ${b.item_count === 1 ? 'object' : 'objects'}, taken ${formatDateTime(b.created_at)}? It cannot be restored from afterwards. Nothing in the tenant changes.`}
          </ConfirmWrite>
        </Group>
      </Group>
      <Group gap="xs">
        <Badge variant="light" color={STATUS_COLORS[b.status]}>
          {b.status}
        </Badge>
        <Text size="sm" c="dimmed">
          {formatDateTime(b.created_at)} · {b.initiator_name ?? '—'} · {b.item_count} objects
          {b.origin === 'imported' ? ` · ${importedFrom(b)}` : ''}
        </Text>
      </Group>
      {b.missing_count > 0 && (
        <Text size="sm" c="yellow.8" data-testid="backup-missing">
          Missing: {b.missing.map((m) => `${m.name} (${codeLabel(m.code).toLowerCase()})`).join(', ')}
          {b.missing_count > b.missing.length ? ` and ${b.missing_count - b.missing.length} more` : ''}
        </Text>
      )}
      <Grid>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <Stack gap="xs">
            <Group grow>
              <Select
                placeholder="All types"
                data={Object.entries(b.counts_by_type).map(([key, n]) => ({
                  value: key,
                  label: `${typeLabel(key)} (${n})`,
                }))}
                value={type}
                onChange={setType}
                clearable
                aria-label="Type"
              />
              <TextInput
                placeholder="Search by name"
                value={q}
                onChange={(e) => setQ(e.currentTarget.value)}
                aria-label="Search"
              />
            </Group>
            <ScrollArea h={520} data-testid="backup-items">
              {items.isPending ? (
                <LoadingState label="Loading objects" />
              ) : items.isError ? (
                <ErrorState error={items.error} />
              ) : items.data.data.length === 0 ? (
                <EmptyText>No objects match.</EmptyText>
              ) : (
                items.data.data.map((item) => (
                  <NavLink
                    key={`${item.type}/${item.id}`}
                    label={item.display_name}
                    description={typeLabel(item.type)}
                    active={selected?.type === item.type && selected.id === item.id}
                    onClick={() => setSelected({ type: item.type, id: item.id })}
                  />
                ))
              )}
            </ScrollArea>
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 7 }}>
          {selected ? (
            <BackupObject tenantId={tenant.id} backupId={b.id} item={selected} typeLabel={typeLabel(selected.type)} />
          ) : (
            <EmptyText>Pick an object to see its content and what changed since.</EmptyText>
          )}
        </Grid.Col>
      </Grid>
    </Stack>
  )
}

function BackupObject({
  tenantId,
  backupId,
  item,
  typeLabel,
}: {
  tenantId: string
  backupId: string
  item: { type: string; id: string }
  typeLabel: string
}) {
  const detail = useQuery(backupItemQuery(tenantId, backupId, item))
  const [raw, setRaw] = useState(false)
  if (detail.isPending) return <LoadingState label="Loading the object" />
  if (detail.isError) return <ErrorState error={detail.error} />
  const d = detail.data
  return (
    <Stack gap="sm" data-testid="backup-object">
      <Title order={4} style={wrapAnywhere}>
        {d.display_name}
      </Title>
      <Text size="xs" c="dimmed">
        {typeLabel} · SHA-256 {d.sha256.slice(0, 12)}…
      </Text>
      <Title order={5}>Since this backup</Title>
      {d.current === null ? (
        <Text size="sm">The object is no longer in the tenant.</Text>
      ) : !d.changed ? (
        <Text size="sm">Unchanged: the tenant has the same content.</Text>
      ) : null}
      {d.changed && <DiffView changes={d.changes} />}
      <Title order={5}>Content</Title>
      <Stack gap={2} data-testid="backup-object-fields">
        {inputLines(readablePayload(d.payload)).map((line) => (
          <Text size="sm" key={line.label}>
            <Text span c="dimmed" inherit>
              {line.label}:
            </Text>{' '}
            {line.value}
          </Text>
        ))}
        <Text size="sm">
          <Text span c="dimmed" inherit>
            Assignments:
          </Text>{' '}
          {d.assignments.length}
        </Text>
      </Stack>
      <Anchor component="button" type="button" size="xs" c="dimmed" w="fit-content" onClick={() => setRaw(!raw)}>
        {raw ? 'hide raw' : 'show raw'}
      </Anchor>
      {raw && (
        <Code block mah={400} style={{ overflow: 'auto' }} data-testid="backup-object-raw">
          {JSON.stringify({ ...d.payload, assignments: d.assignments }, null, 2)}
        </Code>
      )}
    </Stack>
  )
}
