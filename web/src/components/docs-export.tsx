import {
  Alert,
  Anchor,
  Button,
  Card,
  Checkbox,
  Group,
  SegmentedControl,
  Select,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core'
import { useMutation, useQuery } from '@tanstack/react-query'
import { useState } from 'react'
import type { Bodies } from '../lib/api-types.ts'
import { api, errorMessage } from '../lib/api.ts'
import type { MeTenant, Run } from '../lib/types.ts'
import { backupsQuery } from '../lib/backup-sets.ts'

type Body = Bodies['POST /api/tenants/{tenantId}/documentation']
const downloadPath = (tenantId: string, runId: string) => `/api/tenants/${tenantId}/documentation/${runId}/download`

/**
 * The tenant's "Export documentation" card: a docs.export run of the tenant now or one of its backup
 * sets, as a Markdown ZIP or one HTML file; the download link appears when the document is there
 * (anyone who may view the tenant may export and download; the run page needs operations.view).
 */
export function DocsExportCard({ tenant }: { tenant: MeTenant }) {
  const [format, setFormat] = useState<'markdown' | 'html'>('markdown')
  const [source, setSource] = useState<'now' | 'backup'>('now')
  const [backupId, setBackupId] = useState<string | null>(null)
  const [assignments, setAssignments] = useState(true)
  const [since, setSince] = useState('')
  const backups = useQuery({ ...backupsQuery(tenant.id), enabled: source === 'backup' })
  const start = useMutation({
    mutationFn: (body: Body) => api<{ run: Run }>(`/api/tenants/${tenant.id}/documentation`, { method: 'POST', body }),
  })
  const runId = start.data?.run.id
  // The document is ready when its download answers (HEAD: nothing is transferred).
  const ready = useQuery({
    queryKey: ['documentation', tenant.id, runId],
    queryFn: async () => (await fetch(downloadPath(tenant.id, runId!), { method: 'HEAD' })).ok,
    enabled: runId !== undefined,
    refetchInterval: (query) => (query.state.data ? false : 1000),
  })
  const submit = () =>
    start.mutate({
      format,
      include_assignments: assignments,
      source: source === 'backup' && backupId ? { backup_id: backupId } : { now: true },
      ...(since ? { changed_since: new Date(since).toISOString() } : {}),
    })
  return (
    <Card withBorder>
      <Title order={3} size="h5" mb="xs">
        Documentation
      </Title>
      <Stack gap="xs">
        <Group gap="sm">
          <SegmentedControl
            value={format}
            onChange={(v) => setFormat(v)}
            data={[
              { value: 'markdown', label: 'Markdown ZIP' },
              { value: 'html', label: 'HTML' },
            ]}
          />
          <SegmentedControl
            value={source}
            onChange={(v) => setSource(v)}
            data={[
              { value: 'now', label: 'Now' },
              { value: 'backup', label: 'Backup set' },
            ]}
          />
        </Group>
        {source === 'backup' && (
          <Select
            placeholder="Pick a backup set"
            data={(backups.data?.data ?? []).map((b) => ({ value: b.id, label: `${b.name} (${b.item_count})` }))}
            value={backupId}
            onChange={setBackupId}
          />
        )}
        <Checkbox
          label="Assignments (with group names)"
          checked={assignments}
          onChange={(e) => setAssignments(e.currentTarget.checked)}
        />
        <TextInput
          label="Appendix: changed since (optional)"
          type="date"
          value={since}
          onChange={(e) => setSince(e.currentTarget.value)}
          w={220}
        />
        <Group>
          <Button
            onClick={submit}
            loading={start.isPending}
            disabled={source === 'backup' && !backupId}
            data-testid="export-documentation"
          >
            Export documentation
          </Button>
          {runId &&
            (ready.data ? (
              <Anchor href={downloadPath(tenant.id, runId)} data-testid="documentation-download">
                Download
              </Anchor>
            ) : (
              <Text size="sm" c="dimmed">
                Writing the document…
              </Text>
            ))}
        </Group>
        {start.isError && <Alert color="red">{errorMessage(start.error)}</Alert>}
      </Stack>
    </Card>
  )
}
