import {
  Anchor,
  Badge,
  Button,
  Checkbox,
  FileButton,
  Group,
  Modal,
  MultiSelect,
  Stack,
  Text,
  TextInput,
} from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { policyTypesQuery } from '../../components/inventory-sync.tsx'
import { DataList } from '../../components/data-list.tsx'
import { PageTitle } from '../../components/states.tsx'
import { errorMessage } from '../../lib/api.ts'
import { can } from '../../lib/capabilities.ts'
import { formatDateTime } from '../../lib/format.ts'
import { Link, navigate } from '../../lib/router.tsx'
import type { BackupSet, MeTenant } from '../../lib/types.ts'
import { backupsQuery, createBackup, importBackupZip, type NewBackup } from './api.ts'
import { LongName } from '../../components/long-name.tsx'
import { RetentionCard } from './retention.tsx'

export const STATUS_COLORS: Record<BackupSet['status'], string> = {
  running: 'blue',
  complete: 'green',
  partial: 'yellow',
  failed: 'red',
}

/** `/t/{tenantId}/backups`: the tenant's backup sets, and (backups.manage) "Create backup" with the picker. */
export function BackupsPage({ tenant }: { tenant: MeTenant }) {
  const backups = useQuery({
    ...backupsQuery(tenant.id),
    refetchInterval: (q) => (q.state.data?.data.some((b) => b.status === 'running') ? 2000 : false),
  })
  const manage = can(tenant, 'backups.manage')
  const [creating, setCreating] = useState(false)
  const queryClient = useQueryClient()
  const importZip = useMutation({
    mutationFn: (file: File) => importBackupZip(tenant.id, file),
    onSuccess: async (set) => {
      await queryClient.invalidateQueries({ queryKey: ['backups', tenant.id] })
      notifications.show({
        title: 'Backup imported',
        message: `"${set.name}": ${set.item_count} objects.`,
        color: 'green',
      })
      navigate(`/t/${tenant.id}/backups/${set.id}`)
    },
    onError: (error) =>
      notifications.show({
        title: 'Could not import the file',
        message: errorMessage(error),
        color: 'red',
        autoClose: false,
      }),
  })

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle eyebrow="Configuration">Backups</PageTitle>
        {manage && (
          <Group gap="xs">
            <FileButton onChange={(file) => file && importZip.mutate(file)} accept="application/zip,.zip">
              {(props) => (
                <Button {...props} variant="default" loading={importZip.isPending} data-testid="import-backup">
                  Import ZIP
                </Button>
              )}
            </FileButton>
            <Button onClick={() => setCreating(true)} data-testid="create-backup">
              Create backup
            </Button>
          </Group>
        )}
      </Group>
      <Text size="sm" c="dimmed">
        Immutable point-in-time sets of the tenant&apos;s configuration, read fresh from Microsoft Graph. Protected sets
        are never deleted by retention.
      </Text>
      <RetentionCard tenantId={tenant.id} manage={manage} />
      <DataList
        rows={backups.data?.data ?? []}
        rowKey={(b) => b.id}
        query={backups}
        testId="backups-table"
        rowTestId="backup-row"
        loadingLabel="Loading backups"
        minWidth={800}
        highlightOnHover={false}
        empty="No backups yet."
        columns={[
          {
            key: 'name',
            label: 'Name',
            cell: (b) => (
              <>
                <Anchor component={Link} to={`/t/${tenant.id}/backups/${b.id}`} size="sm">
                  <LongName>{b.name}</LongName>
                </Anchor>
                {b.labels.map((l) => (
                  <Badge key={l} size="xs" variant="outline" ml={6}>
                    {l}
                  </Badge>
                ))}
              </>
            ),
          },
          { key: 'created', label: 'Created', cell: (b) => formatDateTime(b.created_at) },
          {
            key: 'by',
            label: 'By',
            cell: (b) =>
              b.origin === 'imported' ? `Imported (${b.initiator_name ?? '—'})` : (b.initiator_name ?? '—'),
          },
          {
            key: 'objects',
            label: 'Objects',
            cell: (b) => (
              <span
                title={Object.entries(b.counts_by_type)
                  .map(([t, n]) => `${t}: ${n}`)
                  .join('\n')}
              >
                {b.item_count}
                {b.missing_count > 0 && (
                  <Text span size="xs" c="yellow.8">
                    {' '}
                    ({b.missing_count} missing)
                  </Text>
                )}
              </span>
            ),
          },
          {
            key: 'status',
            label: 'Status',
            cell: (b) => (
              <Badge size="sm" variant="light" color={STATUS_COLORS[b.status]}>
                {b.status}
              </Badge>
            ),
          },
          { key: 'protected', label: 'Protected', cell: (b) => (b.protected ? 'Yes' : 'No') },
        ]}
      />
      {creating && <CreateBackupModal tenantId={tenant.id} onClose={() => setCreating(false)} />}
    </Stack>
  )
}

/** The backup picker: everything by default, or chosen types and categories, with or without foundations and groups. */
function CreateBackupModal({ tenantId, onClose }: { tenantId: string; onClose: () => void }) {
  const queryClient = useQueryClient()
  const catalog = useQuery(policyTypesQuery(tenantId))
  const [name, setName] = useState('')
  const [types, setTypes] = useState<string[]>([])
  const [categories, setCategories] = useState<string[]>([])
  const [foundations, setFoundations] = useState(true)
  const [dependencies, setDependencies] = useState(true)
  const policies = (catalog.data?.data ?? []).filter((t) => t.kind === 'policy')
  const create = useMutation({
    mutationFn: (body: NewBackup) => createBackup(tenantId, body),
    onSuccess: async () => {
      await queryClient.invalidateQueries({ queryKey: ['backups', tenantId] })
      notifications.show({
        title: 'Backup started',
        message: 'It appears in the list and in Operations.',
        color: 'green',
      })
      onClose()
    },
    onError: (error) =>
      notifications.show({ title: 'Could not start the backup', message: errorMessage(error), color: 'red' }),
  })
  return (
    <Modal opened onClose={onClose} title="Create backup" size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault()
          create.mutate({
            ...(name.trim() ? { name: name.trim() } : {}),
            selection: {
              policy_types: types,
              categories,
              include_foundations: foundations,
              include_dependencies: dependencies,
            },
          })
        }}
      >
        <Stack>
          <TextInput
            label="Name"
            placeholder="Default: Backup <date and time>"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            maxLength={200}
          />
          <MultiSelect
            label="Policy types"
            placeholder="All policy types"
            data={policies.map((p) => ({ value: p.key, label: p.label }))}
            value={types}
            onChange={setTypes}
            searchable
            clearable
          />
          <MultiSelect
            label="Categories"
            placeholder="All categories"
            data={catalog.data?.categories ?? []}
            value={categories}
            onChange={setCategories}
            clearable
          />
          <Checkbox
            label="Foundations (assignment filters, scope tags, notification templates)"
            checked={foundations}
            onChange={(e) => setFoundations(e.currentTarget.checked)}
          />
          <Checkbox
            label="Dependencies (the Entra groups assignments reference)"
            checked={dependencies}
            onChange={(e) => setDependencies(e.currentTarget.checked)}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending} data-testid="start-backup">
              Start backup
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}
