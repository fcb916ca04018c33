import { Alert, Button, Group, Modal, MultiSelect, Stack, Text, TextInput } from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { DataList } from '../../components/data-list.tsx'
import { PageTitle } from '../../components/states.tsx'
import { errorMessage, fieldErrors } from '../../lib/api.ts'
import type { Me, TenantGroup } from '../../lib/types.ts'
import { createTenantGroup, deleteTenantGroup, tenantGroupsQuery, updateTenantGroup } from './api.ts'

/** `/admin/tenant-groups`: workspace admins name sets of their tenants, used as filters wherever tenants are chosen. */
export function TenantGroupsPage({ me }: { me: Me }) {
  const groups = useQuery(tenantGroupsQuery)
  const [editing, setEditing] = useState<TenantGroup | 'new' | null>(null)
  const queryClient = useQueryClient()
  const remove = useMutation({
    mutationFn: (group: TenantGroup) => deleteTenantGroup(group.id),
    onSuccess: async (_r, group) => {
      notifications.show({ title: 'Tenant group deleted', message: group.name, color: 'teal' })
      await queryClient.invalidateQueries({ queryKey: ['tenant-groups'] })
    },
    onError: (error) =>
      notifications.show({ title: 'Could not delete the group', message: errorMessage(error), color: 'red' }),
  })
  const tenantName = new Map(me.tenants.map((t) => [t.id, t.name]))

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle eyebrow="Workspace">Tenant groups</PageTitle>
        <Button onClick={() => setEditing('new')}>New group</Button>
      </Group>
      <DataList
        rows={groups.data?.data ?? []}
        rowKey={(group) => group.id}
        query={groups}
        testId="tenant-groups-table"
        rowTestId="tenant-group-row"
        loadingLabel="Loading tenant groups"
        empty="No tenant groups yet: group tenants by customer, region or contract."
        columns={[
          { key: 'name', label: 'Name', cell: (group) => group.name },
          {
            key: 'tenants',
            label: 'Tenants',
            cell: (group) => (
              <>
                <Text size="sm">{group.tenant_ids.map((id) => tenantName.get(id) ?? id).join(', ') || '—'}</Text>
              </>
            ),
          },
          {
            key: 'actions',
            label: 'Actions',
            cell: (group) => (
              <>
                <Group gap="xs" justify="flex-end" wrap="nowrap">
                  <Button size="xs" variant="default" onClick={() => setEditing(group)}>
                    Edit
                  </Button>
                  <Button
                    size="xs"
                    variant="subtle"
                    color="red"
                    loading={remove.isPending}
                    onClick={() => remove.mutate(group)}
                  >
                    Delete
                  </Button>
                </Group>
              </>
            ),
          },
        ]}
      />
      {editing && (
        <TenantGroupModal me={me} group={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />
      )}
    </Stack>
  )
}

function TenantGroupModal({ me, group, onClose }: { me: Me; group: TenantGroup | null; onClose: () => void }) {
  const queryClient = useQueryClient()
  const [name, setName] = useState(group?.name ?? '')
  const [tenantIds, setTenantIds] = useState<string[]>(group?.tenant_ids ?? [])
  const save = useMutation({
    mutationFn: () =>
      group
        ? updateTenantGroup(group.id, { name, tenant_ids: tenantIds })
        : createTenantGroup({ name, tenant_ids: tenantIds }),
    onSuccess: async (saved) => {
      notifications.show({
        title: group ? 'Tenant group saved' : 'Tenant group created',
        message: saved.name,
        color: 'teal',
      })
      await queryClient.invalidateQueries({ queryKey: ['tenant-groups'] })
      await queryClient.invalidateQueries({ queryKey: ['overview'] })
      onClose()
    },
  })
  const errors = fieldErrors(save.error)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    save.mutate()
  }
  return (
    <Modal opened onClose={onClose} title={group ? `Edit ${group.name}` : 'New tenant group'}>
      <form onSubmit={submit}>
        <Stack gap="sm">
          <TextInput
            label="Name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.name}
            required
            data-autofocus
          />
          <MultiSelect
            label="Tenants"
            searchable
            data={me.tenants.map((t) => ({ value: t.id, label: t.name }))}
            value={tenantIds}
            onChange={setTenantIds}
            error={errors.tenant_ids ?? Object.entries(errors).find(([k]) => k.startsWith('tenant_ids.'))?.[1]}
          />
          {save.isError && Object.keys(errors).length === 0 && <Alert color="red">{errorMessage(save.error)}</Alert>}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}
