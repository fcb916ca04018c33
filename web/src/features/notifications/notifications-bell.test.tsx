// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, waitFor } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { mockFetch, renderWithProviders } from '../../test/render.tsx'
import { NotificationsBell, notificationTone } from './notifications-bell.tsx'

const notification = (id: string, read: boolean) => ({
  id,
  kind: 'operation_run.completed',
  title: 'Inventory sync completed',
  body: '31 of 31 processed · 289 created',
  run_id: `run-${id}`,
  outcome: 'succeeded',
  tenant_id: 't1',
  url: `/t/t1/operations/run-${id}`,
  read_at: read ? '2026-01-01T00:00:00Z' : null,
  created_at: new Date().toISOString(),
})

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('NotificationsBell', () => {
  it('shows the unread count and marks one read', async () => {
    const fetchMock = mockFetch({
      'GET /api/notifications': {
        data: [notification('a', false), notification('b', false), notification('c', true)],
        next_cursor: null,
        unread_count: 2,
      },
      'POST /api/notifications/a/read': notification('a', true),
    })
    renderWithProviders(<NotificationsBell />)
    await waitFor(() => expect(screen.getByTestId('notifications-unread-count').textContent).toBe('2'))
    fireEvent.click(screen.getByTestId('notifications-bell'))
    const items = await screen.findAllByTestId('notification-item')
    expect(items).toHaveLength(3)
    expect(items[0]!.textContent).toContain('31 of 31 processed')
    fireEvent.click(screen.getAllByText('Mark read')[0]!)
    await waitFor(() => expect(screen.getByTestId('notifications-unread-count').textContent).toBe('1'))
    expect(fetchMock).toHaveBeenCalledWith('/api/notifications/a/read', expect.objectContaining({ method: 'POST' }))
  })

  it('marks all read', async () => {
    mockFetch({
      'GET /api/notifications': { data: [notification('a', false)], next_cursor: null, unread_count: 1 },
      'POST /api/notifications/read-all': { updated: 1, unread_count: 0 },
    })
    renderWithProviders(<NotificationsBell />)
    await waitFor(() => expect(screen.getByTestId('notifications-unread-count').textContent).toBe('1'))
    fireEvent.click(screen.getByTestId('notifications-bell'))
    fireEvent.click(await screen.findByText('Mark all read'))
    await waitFor(() => expect(screen.getByTestId('notifications-unread-count').textContent).toBe('0'))
    expect(screen.getByTestId('notification-item').dataset.read).toBe('true')
  })

  it('colours a notification by the outcome the server sent, not by its title', () => {
    expect(notificationTone({ outcome: 'succeeded' })).toBe('teal')
    expect(notificationTone({ outcome: 'partially_succeeded' })).toBe('yellow')
    expect(notificationTone({ outcome: 'failed' })).toBe('red')
    expect(notificationTone({ outcome: 'cancelled' })).toBe('gray')
  })
})
