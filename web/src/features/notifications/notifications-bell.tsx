import {
  ActionIcon,
  Anchor,
  Badge,
  Box,
  Button,
  Group,
  Indicator,
  Popover,
  ScrollArea,
  Stack,
  Text,
  UnstyledButton,
  VisuallyHidden,
} from '@mantine/core'
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query'
import { useState } from 'react'
import { errorMessage } from '../../lib/api.ts'
import { formatRelative } from '../../lib/format.ts'
import { outcomeColor } from '../../lib/runs.ts'
import { Link, navigate } from '../../lib/router.tsx'
import type { Notification, NotificationPage } from '../../lib/types.ts'
import { markAllRead, markRead, notificationsQuery } from './api.ts'

/** The dot's colour: the run's outcome as the server sent it, never read from the English title. */
export const notificationTone = (notification: Pick<Notification, 'outcome'>) => outcomeColor(notification.outcome)

export function NotificationsBell() {
  const queryClient = useQueryClient()
  const [opened, setOpened] = useState(false)
  const notifications = useQuery(notificationsQuery)
  const unread = notifications.data?.unread_count ?? 0

  const setPage = (update: (page: NotificationPage) => NotificationPage) =>
    queryClient.setQueryData<NotificationPage>(notificationsQuery.queryKey, (old) => (old ? update(old) : old))

  const readOne = useMutation({
    mutationFn: markRead,
    onSuccess: (read) =>
      setPage((page) => ({
        ...page,
        unread_count: Math.max(0, page.unread_count - (page.data.find((n) => n.id === read.id)?.read_at ? 0 : 1)),
        data: page.data.map((n) => (n.id === read.id ? read : n)),
      })),
  })
  const readAll = useMutation({
    mutationFn: markAllRead,
    onSuccess: () =>
      setPage((page) => ({
        ...page,
        unread_count: 0,
        data: page.data.map((n) => ({ ...n, read_at: n.read_at ?? new Date().toISOString() })),
      })),
  })

  function open(notification: Notification) {
    setOpened(false)
    if (!notification.read_at) readOne.mutate(notification.id)
    navigate(notification.url)
  }

  return (
    <Popover opened={opened} onChange={setOpened} position="bottom-end" width={380} shadow="md" withArrow trapFocus>
      <Popover.Target>
        <Indicator
          disabled={unread === 0}
          label={<span data-testid="notifications-unread-count">{unread}</span>}
          size={18}
          offset={4}
          color="red"
        >
          <ActionIcon
            variant="subtle"
            size="lg"
            data-testid="notifications-bell"
            aria-label={unread > 0 ? `Notifications, ${unread} unread` : 'Notifications'}
            onClick={() => setOpened((o) => !o)}
            aria-expanded={opened}
          >
            <BellIcon />
            {unread === 0 && (
              <VisuallyHidden>
                <span data-testid="notifications-unread-count">0</span>
              </VisuallyHidden>
            )}
          </ActionIcon>
        </Indicator>
      </Popover.Target>
      <Popover.Dropdown p={0} aria-label="Notifications">
        <Group justify="space-between" px="sm" py="xs">
          <Text fw={600} size="sm">
            Notifications
          </Text>
          <Button
            size="compact-xs"
            variant="subtle"
            disabled={unread === 0}
            loading={readAll.isPending}
            onClick={() => readAll.mutate()}
          >
            Mark all read
          </Button>
        </Group>
        <ScrollArea.Autosize mah={420}>
          {notifications.isError && (
            <Text c="red" size="sm" px="sm" pb="sm">
              {errorMessage(notifications.error)}
            </Text>
          )}
          {notifications.data?.data.length === 0 && (
            <Text c="dimmed" size="sm" px="sm" pb="md">
              No notifications yet. You are notified once when an operation you started ends.
            </Text>
          )}
          <Stack gap={0}>
            {notifications.data?.data.map((n) => (
              <Box
                key={n.id}
                data-testid="notification-item"
                data-read={n.read_at ? 'true' : 'false'}
                px="sm"
                py="xs"
                style={{ borderTop: '1px solid var(--mantine-color-default-border)' }}
              >
                <UnstyledButton onClick={() => open(n)} w="100%" aria-label={`${n.title}: open the run`}>
                  <Group gap={6} wrap="nowrap" align="flex-start">
                    <Badge
                      size="xs"
                      circle
                      color={notificationTone(n)}
                      variant={n.read_at ? 'outline' : 'filled'}
                      mt={4}
                      aria-hidden
                    >
                      {' '}
                    </Badge>
                    <Text size="sm" fw={n.read_at ? 400 : 600} lineClamp={2}>
                      {n.title}
                    </Text>
                  </Group>
                  <Text size="xs" c="dimmed" lineClamp={3} mt={2}>
                    {n.body}
                  </Text>
                </UnstyledButton>
                <Group gap="sm" mt={4}>
                  <Anchor component={Link} to={n.url} size="xs" onClick={() => open(n)}>
                    View run
                  </Anchor>
                  {!n.read_at && (
                    <Anchor component="button" type="button" size="xs" onClick={() => readOne.mutate(n.id)}>
                      Mark read
                    </Anchor>
                  )}
                  <Text size="xs" c="dimmed" ml="auto">
                    {formatRelative(n.created_at)}
                  </Text>
                </Group>
              </Box>
            ))}
          </Stack>
        </ScrollArea.Autosize>
      </Popover.Dropdown>
    </Popover>
  )
}

const BellIcon = () => (
  <svg
    width="20"
    height="20"
    viewBox="0 0 24 24"
    fill="none"
    stroke="currentColor"
    strokeWidth="2"
    strokeLinecap="round"
    strokeLinejoin="round"
    aria-hidden="true"
  >
    <path d="M18 8a6 6 0 0 0-12 0c0 7-3 9-3 9h18s-3-2-3-9" />
    <path d="M13.73 21a2 2 0 0 1-3.46 0" />
  </svg>
)
