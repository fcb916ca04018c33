import { Button, Card, Group, NumberInput, Stack, Text } from '@mantine/core'
import { notifications } from '@mantine/notifications'
import { queryOptions, useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import type { Bodies, Responses } from '../../lib/api-types.ts'
import { api, errorMessage } from '../../lib/api.ts'

type Retention = Responses['GET /api/tenants/{tenantId}/backup-retention']
type RetentionChange = Bodies['PUT /api/tenants/{tenantId}/backup-retention']

const retentionPath = (tenantId: string) => `/api/tenants/${tenantId}/backup-retention`
export const retentionQuery = (tenantId: string) =>
  queryOptions({
    queryKey: ['backups', tenantId, 'retention'],
    queryFn: ({ signal }) => api<Retention>(retentionPath(tenantId), { signal }),
  })

/** The policy in words: what retention keeps. */
export function retentionSentence(r: Retention): string {
  if (r === null) return 'Every backup set is kept: no retention policy is set.'
  const sets = r.keep_last === 1 ? 'the newest set' : `the newest ${r.keep_last} sets`
  const days = r.keep_days === 1 ? 'younger than a day' : `younger than ${r.keep_days} days`
  return `Retention keeps ${sets} and every set ${days}; protected sets and the last full backup are always kept.`
}

/** The backups page's retention: the policy in words and, for backups.manage, its two numbers to change. */
export function RetentionCard({ tenantId, manage }: { tenantId: string; manage: boolean }) {
  const retention = useQuery(retentionQuery(tenantId))
  const [editing, setEditing] = useState<RetentionChange | null>(null)
  const queryClient = useQueryClient()
  const save = useMutation({
    mutationFn: (body: RetentionChange) => api<Retention>(retentionPath(tenantId), { method: 'PUT', body }),
    onSuccess: async () => {
      setEditing(null)
      await queryClient.invalidateQueries({ queryKey: ['backups', tenantId, 'retention'] })
      notifications.show({ title: 'Retention saved', message: 'The next prune applies it.', color: 'teal' })
    },
    onError: (error) =>
      notifications.show({ title: 'Could not save the retention', message: errorMessage(error), color: 'red' }),
  })
  if (retention.isPending || retention.isError) return null
  return (
    <Card withBorder padding="sm" data-testid="backup-retention">
      {editing === null ? (
        <Group justify="space-between" wrap="nowrap" gap="sm">
          <Text size="sm" data-testid="retention-sentence">
            {retentionSentence(retention.data)}
          </Text>
          {manage && (
            <Button
              size="xs"
              variant="default"
              onClick={() => setEditing(retention.data ?? { keep_last: 10, keep_days: 30 })}
              data-testid="edit-retention"
            >
              {retention.data === null ? 'Set retention' : 'Change'}
            </Button>
          )}
        </Group>
      ) : (
        <form
          onSubmit={(event) => {
            event.preventDefault()
            save.mutate(editing)
          }}
        >
          <Stack gap="xs">
            <Group align="flex-end" gap="sm">
              <NumberInput
                label="Keep the newest sets"
                min={0}
                max={10_000}
                value={editing.keep_last}
                onChange={(v) => setEditing({ ...editing, keep_last: Number(v) || 0 })}
                w={180}
              />
              <NumberInput
                label="And every set younger than (days)"
                min={0}
                max={36_500}
                value={editing.keep_days}
                onChange={(v) => setEditing({ ...editing, keep_days: Number(v) || 0 })}
                w={240}
              />
              <Button type="submit" loading={save.isPending} data-testid="save-retention">
                Save
              </Button>
              <Button variant="default" onClick={() => setEditing(null)}>
                Cancel
              </Button>
            </Group>
            <Text size="xs" c="dimmed">
              {retentionSentence(editing)}
            </Text>
          </Stack>
        </form>
      )}
    </Card>
  )
}
