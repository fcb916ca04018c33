import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
  List,
  Modal,
  PasswordInput,
  Select,
  Stack,
  Text,
  TextInput,
} from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { DataList } from '../../components/data-list.tsx'
import { LoadingState, PageTitle } from '../../components/states.tsx'
import { errorMessage, fieldErrors } from '../../lib/api.ts'
import { can } from '../../lib/capabilities.ts'
import { CLOUDS, type ConnectionCheck, type Me, type Tenant } from '../../lib/types.ts'
import { addTenant, checkConnection, tenantsQuery, updateTenant } from './api.ts'
import { type TenantFormErrors, type TenantFormValues, tenantPayload, validateTenantForm } from './tenant-form.ts'
import { LongName } from '../../components/long-name.tsx'

const CLOUD_LABELS: Record<string, string> = {
  global: 'Global (commercial)',
  usgov: 'US Government (GCC High)',
  usgovdod: 'US Government (DoD)',
  china: 'China (21Vianet)',
  emulator: 'Graph emulator',
}

export function TenantsPage({ me }: { me: Me }) {
  const tenants = useQuery(tenantsQuery)
  const [editing, setEditing] = useState<Tenant | 'new' | null>(null)
  const [checking, setChecking] = useState<Tenant | null>(null)

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-end">
        <PageTitle eyebrow="Workspace">Tenants</PageTitle>
        {me.user.is_admin && <Button onClick={() => setEditing('new')}>Add tenant</Button>}
      </Group>
      <DataList
        rows={tenants.data?.data ?? []}
        rowKey={(tenant) => tenant.id}
        query={tenants}
        testId="tenants-table"
        rowTestId="tenant-row"
        minWidth={960}
        loadingLabel="Loading tenants"
        empty="No tenants yet: add the first one."
        columns={[
          {
            key: 'name',
            label: 'Name',
            cell: (tenant) => (
              <>
                <Text fw={500} size="sm">
                  <LongName>{tenant.name}</LongName>
                </Text>
                <Text c="dimmed" size="xs">
                  {CLOUD_LABELS[tenant.cloud] ?? tenant.cloud}
                </Text>
              </>
            ),
          },
          {
            key: 'entra-tenant-and-client-id',
            label: 'Entra tenant and client id',
            nowrap: true,
            cell: (tenant) => (
              <>
                <Text size="xs">
                  Tenant <Code>{tenant.entra_tenant_id}</Code>
                </Text>
                <Text size="xs">
                  Client <Code>{tenant.client_id}</Code>
                </Text>
              </>
            ),
          },
          {
            key: 'secret',
            label: 'Secret',
            cell: (tenant) =>
              tenant.has_client_secret ? <Badge variant="light">stored</Badge> : <Badge color="red">missing</Badge>,
          },
          { key: 'your-role', label: 'Your role', cell: (tenant) => tenant.role ?? '—' },
          {
            key: 'actions',
            label: 'Actions',
            cell: (tenant) => (
              <>
                {can(tenant, 'tenant.manage') && (
                  <Group gap="xs" wrap="nowrap" justify="flex-end">
                    <Button size="xs" variant="default" onClick={() => setEditing(tenant)}>
                      Edit connection
                    </Button>
                    <Button size="xs" variant="light" onClick={() => setChecking(tenant)}>
                      Check connection
                    </Button>
                  </Group>
                )}
              </>
            ),
          },
        ]}
      />
      {editing && <TenantFormModal tenant={editing === 'new' ? null : editing} onClose={() => setEditing(null)} />}
      {checking && <ConnectionCheckModal tenant={checking} onClose={() => setChecking(null)} />}
    </Stack>
  )
}

function TenantFormModal({ tenant, onClose }: { tenant: Tenant | null; onClose: () => void }) {
  const queryClient = useQueryClient()
  const mode = tenant ? 'edit' : 'add'
  const original: TenantFormValues | undefined = tenant
    ? {
        name: tenant.name,
        entra_tenant_id: tenant.entra_tenant_id,
        client_id: tenant.client_id,
        client_secret: '',
        cloud: tenant.cloud,
      }
    : undefined
  const [values, setValues] = useState<TenantFormValues>(
    original ?? { name: '', entra_tenant_id: '', client_id: '', client_secret: '', cloud: 'global' },
  )
  const [errors, setErrors] = useState<TenantFormErrors>({})
  const save = useMutation({
    mutationFn: () => {
      const body = tenantPayload(values, original)
      return tenant ? updateTenant(tenant.id, body) : addTenant(body as Parameters<typeof addTenant>[0])
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: ['tenants'] })
      void queryClient.invalidateQueries({ queryKey: ['me'] })
      void queryClient.invalidateQueries({ queryKey: ['tenant', saved.id] })
      notifications.show({ title: tenant ? 'Connection saved' : 'Tenant added', message: saved.name, color: 'teal' })
      onClose()
    },
    onError: (error) => setErrors(fieldErrors(error) as TenantFormErrors),
  })

  function submit(event: FormEvent) {
    event.preventDefault()
    const found = validateTenantForm(values, mode)
    setErrors(found)
    if (Object.keys(found).length === 0) save.mutate()
  }
  const field = (key: keyof TenantFormValues) => ({
    value: values[key],
    error: errors[key],
    onChange: (e: React.ChangeEvent<HTMLInputElement>) => {
      const value = e.currentTarget.value
      setValues((v) => ({ ...v, [key]: value }))
    },
  })
  const unnamed = save.error && Object.keys(fieldErrors(save.error)).length === 0

  return (
    <Modal
      opened
      onClose={onClose}
      title={tenant ? `Edit connection: ${tenant.name}` : 'Add a Microsoft tenant'}
      size="lg"
    >
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <TextInput label="Name" required {...field('name')} />
          <TextInput
            label="Entra tenant id"
            placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
            required
            {...field('entra_tenant_id')}
          />
          <TextInput
            label="Client id (app registration)"
            placeholder="xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
            required
            {...field('client_id')}
          />
          <PasswordInput
            label="Client secret"
            description={
              tenant
                ? 'Write-only: leave empty to keep the stored secret.'
                : 'Write-only: it is stored encrypted and never shown again.'
            }
            required={!tenant}
            autoComplete="new-password"
            {...field('client_secret')}
          />
          <Select
            label="Cloud"
            data={CLOUDS.map((c) => ({ value: c, label: CLOUD_LABELS[c] ?? c }))}
            value={values.cloud}
            onChange={(cloud) => cloud && setValues((v) => ({ ...v, cloud: cloud }))}
            allowDeselect={false}
            error={errors.cloud}
          />
          {unnamed && (
            <Alert color="red" variant="light">
              {errorMessage(save.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              {tenant ? 'Save' : 'Add tenant'}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  )
}

function ConnectionCheckModal({ tenant, onClose }: { tenant: Tenant; onClose: () => void }) {
  const check = useQuery({
    queryKey: ['connection-check', tenant.id],
    queryFn: () => checkConnection(tenant.id),
    staleTime: 0,
    gcTime: 0,
    retry: false,
  })
  return (
    <Modal opened onClose={onClose} title={`Connection check: ${tenant.name}`} size="lg">
      {check.isPending ? (
        <LoadingState label="Checking the connection" />
      ) : check.isError ? (
        <Alert color="red">{errorMessage(check.error)}</Alert>
      ) : (
        <ConnectionResult result={check.data} onAgain={() => void check.refetch()} again={check.isFetching} />
      )}
    </Modal>
  )
}

export function ConnectionResult({
  result,
  onAgain,
  again,
}: {
  result: ConnectionCheck
  onAgain: () => void
  again: boolean
}) {
  const missing = result.permissions.filter((p) => p.status === 'missing')
  return (
    <Stack gap="sm" data-testid="connection-check">
      {/* ok means signed in with every permission; an error means nothing could be checked. */}
      {result.error === null ? (
        <Alert
          color={missing.length > 0 ? 'yellow' : 'teal'}
          variant="light"
          title={missing.length > 0 ? 'Connected, with missing permissions' : 'Connected'}
        >
          {missing.length > 0
            ? `${missing.length} permission${missing.length === 1 ? ' is' : 's are'} missing: the types they gate are skipped by inventory syncs.`
            : 'Every permission the inventory needs is granted.'}
        </Alert>
      ) : (
        <Alert color="red" variant="light" title="Could not connect">
          <Code>{result.error.code}</Code> {result.error.message}
        </Alert>
      )}
      {result.permissions.length > 0 && (
        <DataList
          rows={result.permissions}
          rowKey={(p) => p.permission}
          rowProps={(p) => ({ 'data-status': p.status })}
          rowTestId="permission-row"
          verticalSpacing={4}
          testId="connection-permissions"
          empty="No permissions checked."
          columns={[
            {
              key: 'permission',
              label: 'Permission',
              cell: (p) => (
                <>
                  <Code>{p.permission}</Code>
                </>
              ),
            },
            {
              key: 'status',
              label: 'Status',
              cell: (p) => (
                <>
                  <Badge
                    color={p.status === 'granted' ? 'teal' : p.status === 'missing' ? 'red' : 'gray'}
                    variant="light"
                  >
                    {p.status}
                  </Badge>
                </>
              ),
            },
            {
              key: 'blocks-when-missing',
              label: 'Blocks when missing',
              cell: (p) => (
                <>
                  {p.status === 'missing' && p.blocks.length > 0 ? (
                    <List size="sm">
                      {p.blocks.map((b) => (
                        <List.Item key={b.key}>{b.label}</List.Item>
                      ))}
                    </List>
                  ) : (
                    <Text size="sm" c="dimmed">
                      {p.blocks.length} type{p.blocks.length === 1 ? '' : 's'}
                    </Text>
                  )}
                </>
              ),
            },
          ]}
        />
      )}
      {missing.length > 0 && (
        <Text size="sm">
          Grant the missing permissions to the app registration in Entra ID and admin-consent them, then check again.
        </Text>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onAgain} loading={again}>
          Check again
        </Button>
      </Group>
    </Stack>
  )
}
