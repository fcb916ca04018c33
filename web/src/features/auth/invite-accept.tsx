import { Alert, Button, Divider, Stack, Text, TextInput } from '@mantine/core'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { api, errorMessage, fieldErrors } from '../../lib/api.ts'
import { navigate } from '../../lib/router.tsx'
import { providersQuery } from './api.ts'

type OpenInvite = { tenant_name: string; email: string; role: string; expires_at: string }

/** An invite link (`/login?invite=…`): set a password, or sign in with Microsoft; either way into the tenant. */
export function InviteAccept({ token }: { token: string }) {
  const queryClient = useQueryClient()
  const invite = useQuery({
    queryKey: ['invite', token],
    queryFn: ({ signal }) => api<OpenInvite>(`/api/invites/${encodeURIComponent(token)}`, { signal }),
    retry: false,
  })
  const providers = useQuery(providersQuery)
  const [name, setName] = useState('')
  const [password, setPassword] = useState('')
  const accept = useMutation({
    mutationFn: () =>
      api<{ tenant_id: string }>(`/api/invites/${encodeURIComponent(token)}/accept`, {
        method: 'POST',
        body: { name: name.trim(), password },
      }),
    onSuccess: ({ tenant_id }) => {
      queryClient.clear()
      navigate(`/t/${tenant_id}`, { replace: true })
    },
  })
  const errors = fieldErrors(accept.error)
  if (invite.isPending) return <Text c="dimmed">Checking the invite…</Text>
  if (invite.isError) return <Alert color="red">{errorMessage(invite.error)}</Alert>
  const submit = (event: FormEvent) => {
    event.preventDefault()
    accept.mutate()
  }
  return (
    <Stack gap="md" data-testid="invite-accept">
      <Text size="sm">
        You are invited to <b>{invite.data.tenant_name}</b> as {invite.data.role} ({invite.data.email}).
      </Text>
      {providers.data?.microsoft && (
        <Button
          component="a"
          href={`/api/auth/oidc/start?${new URLSearchParams({ invite: token }).toString()}`}
          data-testid="sign-in-microsoft"
        >
          Accept with Microsoft
        </Button>
      )}
      {providers.data?.microsoft && <Divider label="or set a password" labelPosition="center" />}
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <TextInput
            label="Your name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errors.name}
          />
          <TextInput
            label="New password"
            type="password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            error={errors.password}
          />
          {accept.isError && !errors.name && !errors.password && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(accept.error)}
            </Alert>
          )}
          <Button type="submit" loading={accept.isPending} disabled={!name.trim() || !password}>
            Accept the invite
          </Button>
        </Stack>
      </form>
    </Stack>
  )
}
