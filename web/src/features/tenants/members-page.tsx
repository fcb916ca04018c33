import { Button, Group, Modal, Select, Stack, Text, TextInput } from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { DataList } from '../../components/data-list.tsx'
import { PageTitle } from '../../components/states.tsx'
import { errorMessage, fieldErrors } from '../../lib/api.ts'
import { type Me, type MeTenant, type Member, ROLES, type Role } from '../../lib/types.ts'
import { ROLE_DESCRIPTIONS } from '../../lib/roles.ts'
import { addMember, changeRole, membersQuery, removeMember } from './api.ts'
import { LongName } from '../../components/long-name.tsx'
import { InviteForm } from './invite-form.tsx'

const ROLE_OPTIONS = ROLES.map((r) => ({ value: r, label: r.charAt(0).toUpperCase() + r.slice(1) }))

export function MembersPage({ tenant, me }: { tenant: MeTenant; me: Me }) {
  const queryClient = useQueryClient()
  const members = useQuery(membersQuery(tenant.id))
  const [removing, setRemoving] = useState<Member | null>(null)
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['members', tenant.id] })
    void queryClient.invalidateQueries({ queryKey: ['me'] })
  }
  const fail = (title: string) => (error: unknown) =>
    notifications.show({ title, message: errorMessage(error), color: 'red' })

  const role = useMutation({
    mutationFn: ({ userId, to }: { userId: string; to: Role }) => changeRole(tenant.id, userId, to),
    onSuccess: (m) => {
      refresh()
      notifications.show({ title: 'Role changed', message: `${m.name} is now ${m.role}`, color: 'teal' })
    },
    onError: fail('Could not change the role'),
  })
  const remove = useMutation({
    mutationFn: (userId: string) => removeMember(tenant.id, userId),
    onSuccess: () => {
      refresh()
      setRemoving(null)
      notifications.show({ title: 'Member removed', message: removing?.email ?? '', color: 'teal' })
    },
    onError: fail('Could not remove the member'),
  })

  return (
    <Stack gap="md">
      <PageTitle eyebrow={tenant.name}>Members</PageTitle>
      <AddMemberForm tenantId={tenant.id} onAdded={refresh} />
      <InviteForm tenantId={tenant.id} />
      <RoleDescriptions />
      <DataList
        rows={members.data?.data ?? []}
        rowKey={(m) => m.user_id}
        query={members}
        testId="members-table"
        rowTestId="member-row"
        loadingLabel="Loading members"
        empty="No members yet."
        columns={[
          {
            key: 'name',
            label: 'Name',
            cell: (m) => (
              <>
                <LongName maw={280}>{m.name}</LongName>
                {m.user_id === me.user.id && (
                  <Text span c="dimmed" size="sm">
                    {' '}
                    (you)
                  </Text>
                )}
              </>
            ),
          },
          { key: 'e-mail', label: 'E-mail', cell: (m) => m.email },
          {
            key: 'role',
            label: 'Role',
            cell: (m) => (
              <>
                <Select
                  aria-label={`Role of ${m.name}`}
                  data={ROLE_OPTIONS}
                  value={m.role}
                  allowDeselect={false}
                  onChange={(to) => to && to !== m.role && role.mutate({ userId: m.user_id, to: to })}
                  w={150}
                  size="xs"
                />
                {m.source === 'entra' && (
                  <Text
                    span
                    c="dimmed"
                    size="xs"
                    title="Granted by an Entra role rule; changing it here makes it manual"
                  >
                    from Entra
                  </Text>
                )}
              </>
            ),
          },
          {
            key: 'actions',
            label: 'Actions',
            cell: (m) => (
              <>
                <Button
                  size="xs"
                  color="red"
                  variant="subtle"
                  onClick={() => setRemoving(m)}
                  aria-label={`Remove ${m.name}`}
                >
                  Remove
                </Button>
              </>
            ),
          },
        ]}
      />
      <Modal opened={removing !== null} onClose={() => setRemoving(null)} title="Remove member">
        <Text size="sm">
          Remove {removing?.name} ({removing?.email}) from {tenant.name}? They lose access to this tenant at once.
        </Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setRemoving(null)}>
            Keep
          </Button>
          <Button color="red" loading={remove.isPending} onClick={() => removing && remove.mutate(removing.user_id)}>
            Remove
          </Button>
        </Group>
      </Modal>
    </Stack>
  )
}

function AddMemberForm({ tenantId, onAdded }: { tenantId: string; onAdded: () => void }) {
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<Role>('readonly')
  const [error, setError] = useState<string | null>(null)
  const add = useMutation({
    mutationFn: () => addMember(tenantId, email.trim(), role),
    onSuccess: (m) => {
      setEmail('')
      setError(null)
      onAdded()
      notifications.show({ title: 'Member added', message: `${m.name} (${m.role})`, color: 'teal' })
    },
    onError: (err) => setError(fieldErrors(err).email ?? errorMessage(err)),
  })
  function submit(event: FormEvent) {
    event.preventDefault()
    if (!/^[^\s@]+@[^\s@]+$/.test(email.trim())) {
      setError('Enter an e-mail address')
      return
    }
    add.mutate()
  }
  return (
    <form onSubmit={submit} noValidate>
      <Group align="flex-start" gap="sm">
        <TextInput
          label="Add a member by e-mail"
          placeholder="someone@example.com"
          type="email"
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          error={error}
          w={320}
        />
        <Select
          label="Role"
          description={ROLE_DESCRIPTIONS[role]}
          data={ROLE_OPTIONS}
          value={role}
          onChange={(r) => r && setRole(r)}
          allowDeselect={false}
          w={150}
        />
        <Button type="submit" mt={25} loading={add.isPending}>
          Add member
        </Button>
      </Group>
    </form>
  )
}

/** Each role in one line, so whoever adds a member knows what the role lets them do. */
function RoleDescriptions() {
  return (
    <Stack gap={2} data-testid="role-descriptions">
      {ROLES.map((r) => (
        <Text key={r} size="sm">
          <Text span fw={600} tt="capitalize">
            {r}
          </Text>
          {': '}
          <Text span c="dimmed" inherit>
            {ROLE_DESCRIPTIONS[r]}
          </Text>
        </Text>
      ))}
    </Stack>
  )
}
