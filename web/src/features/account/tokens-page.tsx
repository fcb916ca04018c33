import {
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  MultiSelect,
  Select,
  Stack,
  Text,
  TextInput,
} from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { DataList } from '../../components/data-list.tsx'
import { LongName } from '../../components/long-name.tsx'
import { PageTitle } from '../../components/states.tsx'
import { errorMessage, fieldErrors } from '../../lib/api.ts'
import { formatDateTime } from '../../lib/format.ts'
import type { Me } from '../../lib/types.ts'
import { type ApiToken, type CreatedApiToken, createToken, revokeToken, tokensQuery } from './api.ts'

/** The capabilities a custom scope may list (the role table of docs/api.md), and the two that are not a tenant's. */
const SCOPE_CAPABILITIES = [
  { value: 'tenant.view', label: 'View tenants and inventory' },
  { value: 'inventory.sync', label: 'Start inventory syncs' },
  { value: 'operations.view', label: 'View operations' },
  { value: 'operations.manage', label: 'Cancel and re-run runs' },
  { value: 'tenant.manage', label: 'Manage tenant connections' },
  { value: 'audit.view', label: 'View the audit trail' },
  { value: 'members.manage', label: 'Manage members' },
  { value: 'tokens.manage', label: 'Create and revoke API tokens' },
]
const ADMIN_CAPABILITY = { value: 'workspace.admin', label: 'Workspace administration' }

export const scopeLabel = (scope: string) =>
  scope === 'full' ? 'Full' : scope === 'read' ? 'Read-only' : scope.split(',').join(', ')

export const isExpired = (token: Pick<ApiToken, 'expires_at'>, now: number) =>
  token.expires_at !== null && Date.parse(token.expires_at) <= now

/** Account → API tokens: personal tokens for scripts, with their scope, last use and expiry; revocable. */
export function TokensPage({ me }: { me: Me }) {
  const queryClient = useQueryClient()
  const tokens = useQuery(tokensQuery)
  const [created, setCreated] = useState<CreatedApiToken | null>(null)
  const [revoking, setRevoking] = useState<ApiToken | null>(null)
  const now = Date.now()
  const revoke = useMutation({
    mutationFn: (tokenId: string) => revokeToken(tokenId),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['tokens'] })
      notifications.show({ title: 'Token revoked', message: revoking?.name ?? '', color: 'teal' })
      setRevoking(null)
    },
    onError: (error) =>
      notifications.show({ title: 'Could not revoke the token', message: errorMessage(error), color: 'red' }),
  })

  return (
    <Stack gap="md">
      <PageTitle eyebrow={me.user.name}>API tokens</PageTitle>
      <Text size="sm" c="dimmed" maw={720}>
        A token lets a script call the API as you (<Code>Authorization: Bearer …</Code>). It never does more than you
        may, and its scope can narrow that further.
      </Text>
      <CreateTokenForm
        isAdmin={me.user.is_admin}
        onCreated={(token) => {
          setCreated(token)
          void queryClient.invalidateQueries({ queryKey: ['tokens'] })
        }}
      />
      {created && (
        <Alert
          color="teal"
          title={`Token "${created.name}" created`}
          withCloseButton
          onClose={() => setCreated(null)}
          data-testid="created-token"
        >
          <Stack gap="xs">
            <Text size="sm">Copy it now: it is shown this once.</Text>
            <Group gap="xs" wrap="nowrap">
              <Code style={{ overflowWrap: 'anywhere' }}>{created.token}</Code>
              <CopyButton value={created.token}>
                {({ copied, copy }) => (
                  <Button size="xs" variant="light" onClick={copy}>
                    {copied ? 'Copied' : 'Copy'}
                  </Button>
                )}
              </CopyButton>
            </Group>
          </Stack>
        </Alert>
      )}
      <DataList
        rows={tokens.data?.data ?? []}
        rowKey={(token) => token.id}
        query={tokens}
        testId="tokens-table"
        rowTestId="token-row"
        minWidth={800}
        loadingLabel="Loading your tokens"
        empty="You have no API tokens."
        columns={[
          {
            key: 'name',
            label: 'Name',
            cell: (token) => (
              <>
                <LongName maw={260}>{token.name}</LongName>
                <Text size="xs" c="dimmed" ff="monospace">
                  {token.display_prefix}…
                </Text>
              </>
            ),
          },
          {
            key: 'scope',
            label: 'Scope',
            cell: (token) => (
              <>
                <LongName maw={260}>{scopeLabel(token.scope)}</LongName>
              </>
            ),
          },
          { key: 'created', label: 'Created', nowrap: true, cell: (token) => formatDateTime(token.created_at) },
          {
            key: 'last-used',
            label: 'Last used',
            nowrap: true,
            cell: (token) => (token.last_used_at ? formatDateTime(token.last_used_at) : 'Never used'),
          },
          {
            key: 'expires',
            label: 'Expires',
            nowrap: true,
            cell: (token) => (
              <>
                {token.expires_at === null ? 'Never' : formatDateTime(token.expires_at)}{' '}
                {isExpired(token, now) && (
                  <Badge size="xs" color="red" variant="light">
                    Expired
                  </Badge>
                )}
              </>
            ),
          },
          {
            key: 'actions',
            label: 'Actions',
            cell: (token) => (
              <>
                <Button
                  size="xs"
                  color="red"
                  variant="subtle"
                  onClick={() => setRevoking(token)}
                  aria-label={`Revoke ${token.name}`}
                >
                  Revoke
                </Button>
              </>
            ),
          },
        ]}
      />
      <Modal opened={revoking !== null} onClose={() => setRevoking(null)} title="Revoke token">
        <Text size="sm" style={{ overflowWrap: 'anywhere' }}>
          Revoke “{revoking?.name}”? Scripts that use it get 401 from now on.
        </Text>
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={() => setRevoking(null)}>
            Keep
          </Button>
          <Button color="red" loading={revoke.isPending} onClick={() => revoking && revoke.mutate(revoking.id)}>
            Revoke
          </Button>
        </Group>
      </Modal>
    </Stack>
  )
}

type ScopeChoice = 'full' | 'read' | 'custom'

function CreateTokenForm({ isAdmin, onCreated }: { isAdmin: boolean; onCreated: (token: CreatedApiToken) => void }) {
  const [name, setName] = useState('')
  const [scope, setScope] = useState<ScopeChoice>('full')
  const [capabilities, setCapabilities] = useState<string[]>([])
  const [expiry, setExpiry] = useState('90')
  const [errors, setErrors] = useState<Record<string, string>>({})
  const create = useMutation({
    mutationFn: () =>
      createToken({
        name: name.trim(),
        scope: scope === 'custom' ? capabilities.join(',') : scope,
        expires_in_days: expiry === 'never' ? 'never' : Number(expiry),
      }),
    onSuccess: (token) => {
      setName('')
      setErrors({})
      onCreated(token)
    },
    onError: (error) => {
      const fields = fieldErrors(error)
      setErrors(Object.keys(fields).length > 0 ? fields : { name: errorMessage(error) })
    },
  })
  function submit(event: FormEvent) {
    event.preventDefault()
    if (!name.trim()) return setErrors({ name: 'Name the token (what uses it?)' })
    if (scope === 'custom' && capabilities.length === 0) return setErrors({ scope: 'Choose at least one capability' })
    create.mutate()
  }
  const expiryOptions = [
    { value: '7', label: '7 days' },
    { value: '30', label: '30 days' },
    { value: '90', label: '90 days' },
    { value: '365', label: '1 year' },
    ...(isAdmin ? [{ value: 'never', label: 'Never (admins only)' }] : []),
  ]
  return (
    <form onSubmit={submit} noValidate data-testid="create-token">
      <Group align="flex-start" gap="sm">
        <TextInput
          label="Name"
          placeholder="CI pipeline"
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={errors.name}
          w={240}
          maxLength={100}
        />
        <Select
          label="Scope"
          data={[
            { value: 'full', label: 'Full (everything you may do)' },
            { value: 'read', label: 'Read-only' },
            { value: 'custom', label: 'Chosen capabilities' },
          ]}
          value={scope}
          onChange={(v) => v && setScope(v)}
          allowDeselect={false}
          error={scope === 'custom' ? undefined : errors.scope}
          w={240}
        />
        {scope === 'custom' && (
          <MultiSelect
            label="Capabilities"
            data={isAdmin ? [...SCOPE_CAPABILITIES, ADMIN_CAPABILITY] : SCOPE_CAPABILITIES}
            value={capabilities}
            onChange={setCapabilities}
            error={errors.scope}
            w={320}
          />
        )}
        <Select
          label="Expires after"
          data={expiryOptions}
          value={expiry}
          onChange={(v) => v && setExpiry(v)}
          allowDeselect={false}
          error={errors.expires_in_days}
          w={180}
        />
        <Button type="submit" mt={25} loading={create.isPending}>
          Create token
        </Button>
      </Group>
    </form>
  )
}
