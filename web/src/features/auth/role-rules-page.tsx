import { Alert, Button, Group, MultiSelect, Select, Stack, Text, TextInput } from '@mantine/core'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { DataList } from '../../components/data-list.tsx'
import { PageTitle } from '../../components/states.tsx'
import { api, errorMessage } from '../../lib/api.ts'
import { type Me, ROLES } from '../../lib/types.ts'

/** Workspace admins: which Entra group or app role grants what (ADR 028), applied at each sign-in and role check. */

type Grants =
  { workspace_admin: true } | { role: string; tenant_ids: string[] } | { role: string; tenant_group_ids: string[] }
type RoleRule = { id: string; claim: 'group' | 'app_role'; value: string; grants: Grants; created_at: string }

const rulesQuery = {
  queryKey: ['role-rules'],
  queryFn: ({ signal }: { signal: AbortSignal }) => api<{ data: RoleRule[] }>('/api/role-rules', { signal }),
}

function describe(grants: Grants, me: Me) {
  if ('workspace_admin' in grants) return 'workspace admin'
  if ('tenant_ids' in grants)
    return `${grants.role} of ${grants.tenant_ids.map((id) => me.tenants.find((t) => t.id === id)?.name ?? id).join(', ')}`
  return `${grants.role} of ${grants.tenant_group_ids.length} tenant group(s)`
}

export function RoleRulesPage({ me }: { me: Me }) {
  const queryClient = useQueryClient()
  const rules = useQuery(rulesQuery)
  const [claim, setClaim] = useState<'group' | 'app_role'>('group')
  const [value, setValue] = useState('')
  const [grant, setGrant] = useState<string>('admin')
  const [tenantIds, setTenantIds] = useState<string[]>([])
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['role-rules'] })
  const add = useMutation({
    mutationFn: () =>
      api<RoleRule>('/api/role-rules', {
        method: 'POST',
        body: {
          claim,
          value: value.trim(),
          grants: grant === 'admin' ? { workspace_admin: true } : { role: grant, tenant_ids: tenantIds },
        },
      }),
    onSuccess: () => {
      setValue('')
      refresh()
    },
  })
  const remove = useMutation({
    mutationFn: (id: string) => api<undefined>(`/api/role-rules/${id}`, { method: 'DELETE' }),
    onSuccess: refresh,
  })
  const submit = (event: FormEvent) => {
    event.preventDefault()
    add.mutate()
  }
  return (
    <Stack gap="md">
      <PageTitle eyebrow="Workspace">Role rules</PageTitle>
      <Text c="dimmed" size="sm">
        People who sign in with Microsoft get these roles from their Entra groups (object id) or app roles, at each
        sign-in and at least hourly. Roles granted by hand on a tenant&apos;s Members page stay as they are.
      </Text>
      <form onSubmit={submit} noValidate>
        <Group align="flex-end" gap="sm">
          <Select
            label="Claim"
            data={[
              { value: 'group', label: 'Group object id' },
              { value: 'app_role', label: 'App role value' },
            ]}
            value={claim}
            allowDeselect={false}
            onChange={(v) => v && setClaim(v)}
            w={170}
          />
          <TextInput label="Value" value={value} onChange={(e) => setValue(e.currentTarget.value)} w={320} />
          <Select
            label="Grants"
            data={[{ value: 'admin', label: 'Workspace admin' }, ...ROLES.map((r) => ({ value: r, label: r }))]}
            value={grant}
            allowDeselect={false}
            onChange={(v) => v && setGrant(v)}
            w={170}
          />
          {grant !== 'admin' && (
            <MultiSelect
              label="In tenants"
              data={me.tenants.map((t) => ({ value: t.id, label: t.name }))}
              value={tenantIds}
              onChange={setTenantIds}
              w={260}
            />
          )}
          <Button type="submit" loading={add.isPending} disabled={!value.trim()}>
            Add rule
          </Button>
        </Group>
      </form>
      {add.isError && (
        <Alert color="red" variant="light">
          {errorMessage(add.error)}
        </Alert>
      )}
      <DataList
        rows={rules.data?.data ?? []}
        rowKey={(rule) => rule.id}
        query={rules}
        testId="role-rules-table"
        loadingLabel="Loading role rules"
        empty="No role rules yet: everyone signing in with Entra gets no tenant until a rule or an invite grants one."
        columns={[
          { key: 'claim', label: 'Claim', cell: (rule) => (rule.claim === 'group' ? 'group' : 'app role') },
          { key: 'value', label: 'Value', cell: (rule) => rule.value },
          { key: 'grants', label: 'Grants', cell: (rule) => describe(rule.grants, me) },
          {
            key: 'actions',
            label: 'Actions',
            cell: (rule) => (
              <>
                <Button size="xs" color="red" variant="subtle" onClick={() => remove.mutate(rule.id)}>
                  Remove
                </Button>
              </>
            ),
          },
        ]}
      />
    </Stack>
  )
}
