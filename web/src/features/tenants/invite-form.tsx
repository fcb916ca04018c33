import { Alert, Button, Code, CopyButton, Group, Select, Stack, Text, TextInput } from '@mantine/core'
import { useMutation } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { api, errorMessage, fieldErrors } from '../../lib/api.ts'
import { ROLES, type Role } from '../../lib/types.ts'

const ROLE_OPTIONS = ROLES.map((r) => ({ value: r, label: r.charAt(0).toUpperCase() + r.slice(1) }))

type Invite = { id: string; email: string; role: Role; expires_at: string; invite_url: string }

/**
 * Invite someone who has no account yet (issue 28): the link is shown here once, to hand over; the
 * invitee sets a password there or signs in with Microsoft, and lands in this tenant.
 */
export function InviteForm({ tenantId }: { tenantId: string }) {
  const [email, setEmail] = useState('')
  const [role, setRole] = useState<Role>('readonly')
  const invite = useMutation({
    mutationFn: () =>
      api<Invite>(`/api/tenants/${tenantId}/invites`, { method: 'POST', body: { email: email.trim(), role } }),
    onSuccess: () => setEmail(''),
  })
  const errors = fieldErrors(invite.error)
  const submit = (event: FormEvent) => {
    event.preventDefault()
    invite.mutate()
  }
  return (
    <Stack gap="xs">
      <form onSubmit={submit} noValidate>
        <Group align="flex-end" gap="sm">
          <TextInput
            label="Invite by e-mail"
            placeholder="colleague@example.com"
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            error={errors.email}
            w={280}
          />
          <Select
            label="Role"
            data={ROLE_OPTIONS}
            value={role}
            allowDeselect={false}
            onChange={(v) => v && setRole(v)}
            w={150}
          />
          <Button type="submit" variant="default" loading={invite.isPending} disabled={!email.trim()}>
            Create invite link
          </Button>
        </Group>
      </form>
      {invite.isError && !errors.email && (
        <Alert color="red" variant="light">
          {errorMessage(invite.error)}
        </Alert>
      )}
      {invite.data && (
        <Alert color="teal" variant="light" data-testid="invite-link">
          <Text size="sm">
            Give this link to {invite.data.email} (it is shown once, works once, until{' '}
            {new Date(invite.data.expires_at).toLocaleDateString()}):
          </Text>
          <Group gap="xs" mt={4}>
            <Code>{invite.data.invite_url}</Code>
            <CopyButton value={invite.data.invite_url}>
              {({ copied, copy }) => (
                <Button size="compact-xs" variant="subtle" onClick={copy}>
                  {copied ? 'Copied' : 'Copy'}
                </Button>
              )}
            </CopyButton>
          </Group>
        </Alert>
      )}
    </Stack>
  )
}
