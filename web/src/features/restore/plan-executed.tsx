import { Alert, Anchor, Button, Group, Text } from '@mantine/core'
import { ApiError } from '../../lib/api.ts'
import { Link } from '../../lib/router.tsx'

/**
 * A restore plan executes once (ADR 023): executing it again answers 409 `plan_executed` with the
 * run that executed it. Returns that run's id, or null for any other error.
 */
export function executedRunOf(error: unknown): string | null {
  if (!(error instanceof ApiError) || error.status !== 409 || error.code !== 'plan_executed') return null
  const runId = (error.details as { run_id?: unknown } | null | undefined)?.run_id
  return typeof runId === 'string' ? runId : ''
}

/** What an executed plan's Execute says: the run that executed it, and "Refresh plan" (rebuilt, it may run again). */
export function PlanExecutedAlert({
  tenantId,
  runId,
  onRefresh,
  refreshing,
}: {
  tenantId: string
  runId: string
  onRefresh: () => void
  refreshing: boolean
}) {
  return (
    <Alert color="yellow" title="This plan was executed already" data-testid="plan-executed">
      <Text size="sm">
        A restore plan runs once, so nothing is written twice.{' '}
        {runId ? (
          <>
            It was executed by{' '}
            <Anchor
              component={Link}
              to={`/t/${tenantId}/operations/${runId}`}
              size="sm"
              data-testid="plan-executed-run"
            >
              run {runId.slice(0, 8)}
            </Anchor>
            .{' '}
          </>
        ) : null}
        To restore again, refresh the plan: it is rebuilt against the tenant as it is now, for you to review and
        execute.
      </Text>
      <Group mt="xs">
        <Button size="xs" onClick={onRefresh} loading={refreshing} data-testid="plan-executed-refresh">
          Refresh plan
        </Button>
      </Group>
    </Alert>
  )
}
