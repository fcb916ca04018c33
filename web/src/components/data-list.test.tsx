// @vitest-environment happy-dom
import { cleanup, fireEvent, screen, within } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { renderWithProviders } from '../test/render.tsx'
import { type Column, DataList, type ListQuery, useListFilters } from './data-list.tsx'

type Row = { id: string; name: string; kind: string }
const rows: Row[] = [
  { id: 'a', name: 'Baseline', kind: 'Compliance' },
  { id: 'b', name: 'Wi-Fi', kind: 'Configuration' },
]
const columns: Column<Row>[] = [
  { key: 'name', label: 'Name', cell: (r) => r.name },
  { key: 'kind', label: 'Type', cell: (r) => r.kind, testId: 'kind-cell' },
]
const done: ListQuery = { isPending: false, isError: false, error: null }

/** A window `width` px wide as far as media queries go. */
function viewport(width: number) {
  vi.stubGlobal('matchMedia', (query: string) => {
    const max = /max-width:\s*(\d+)px/.exec(query)
    const matches = max ? width <= Number(max[1]) : false
    return {
      matches,
      media: query,
      onchange: null,
      addEventListener: () => {},
      removeEventListener: () => {},
      addListener: () => {},
      removeListener: () => {},
      dispatchEvent: () => false,
    }
  })
}

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
  window.history.replaceState(null, '', '/')
})

describe('DataList', () => {
  it('shows a table with a header per column on a wide window', () => {
    viewport(1440)
    renderWithProviders(
      <DataList
        rows={rows}
        rowKey={(r) => r.id}
        columns={columns}
        query={done}
        empty="none"
        testId="list"
        rowTestId="row"
      />,
    )
    const table = screen.getByTestId('list')
    expect(table.tagName).toBe('TABLE')
    expect(
      within(table)
        .getAllByRole('columnheader')
        .map((th) => th.textContent),
    ).toEqual(['Name', 'Type'])
    expect(screen.getAllByTestId('row').map((r) => r.textContent)).toEqual(['BaselineCompliance', 'Wi-FiConfiguration'])
  })

  it('stacks each row as a card with the column names as labels at 390 px', () => {
    viewport(390)
    renderWithProviders(
      <DataList
        rows={rows}
        rowKey={(r) => r.id}
        columns={columns}
        query={done}
        empty="none"
        testId="list"
        rowTestId="row"
      />,
    )
    const list = screen.getByTestId('list')
    expect(list.tagName).not.toBe('TABLE')
    expect(list.dataset.layout).toBe('stacked')
    expect(screen.queryByRole('table')).toBeNull()
    const first = screen.getAllByTestId('row')[0]!
    expect(within(first).getByText('Name')).toBeTruthy()
    expect(within(first).getByText('Type')).toBeTruthy()
    expect(within(first).getByTestId('kind-cell').textContent).toBe('Compliance')
  })

  it('says the list is empty, or that the filters match nothing and offers to clear them', () => {
    viewport(1440)
    const clear = vi.fn()
    const { rerender } = renderWithProviders(
      <DataList rows={[]} rowKey={(r: Row) => r.id} columns={columns} query={done} empty="No backups yet." />,
    )
    expect(screen.getByTestId('list-empty').textContent).toBe('No backups yet.')
    expect(screen.queryByRole('table')).toBeNull()
    rerender(
      <DataList
        rows={[]}
        rowKey={(r: Row) => r.id}
        columns={columns}
        query={done}
        empty="No backups yet."
        filtered
        filteredEmpty="No backups match these filters."
        onClearFilters={clear}
      />,
    )
    expect(screen.queryByTestId('list-empty')).toBeNull()
    const filtered = screen.getByTestId('list-filtered-empty')
    expect(filtered.textContent).toContain('No backups match these filters.')
    fireEvent.click(within(filtered).getByRole('button', { name: 'Clear filters' }))
    expect(clear).toHaveBeenCalledOnce()
  })

  it('shows the error instead of rows, and a loader while the first page loads', () => {
    viewport(1440)
    const { rerender } = renderWithProviders(
      <DataList
        rows={rows}
        rowKey={(r) => r.id}
        columns={columns}
        query={{ isPending: false, isError: true, error: new Error('The server is unreachable') }}
        empty="none"
        testId="list"
      />,
    )
    expect(screen.getByRole('alert').textContent).toContain('The server is unreachable')
    expect(screen.queryByTestId('list')).toBeNull()
    rerender(
      <DataList
        rows={[]}
        rowKey={(r: Row) => r.id}
        columns={columns}
        query={{ isPending: true, isError: false, error: null }}
        empty="none"
        loadingLabel="Loading backups"
      />,
    )
    expect(screen.getByLabelText('Loading backups')).toBeTruthy()
    expect(screen.queryByTestId('list-empty')).toBeNull()
  })

  it('offers Load more only while there is a next page, and fetches it', () => {
    viewport(1440)
    const fetchNextPage = vi.fn()
    const { rerender } = renderWithProviders(
      <DataList
        rows={rows}
        rowKey={(r) => r.id}
        columns={columns}
        query={{ ...done, hasNextPage: true, fetchNextPage }}
        empty="none"
        showCount
      />,
    )
    expect(screen.getByTestId('list-count').textContent).toBe('2 shown')
    fireEvent.click(screen.getByTestId('list-load-more'))
    expect(fetchNextPage).toHaveBeenCalledOnce()
    rerender(
      <DataList
        rows={rows}
        rowKey={(r) => r.id}
        columns={columns}
        query={{ ...done, hasNextPage: false, fetchNextPage }}
        empty="none"
        showCount
      />,
    )
    expect(screen.queryByTestId('list-load-more')).toBeNull()
    expect(screen.getByTestId('list-count').textContent).toBe('2 shown (all)')
  })
})

describe('useListFilters', () => {
  function Filters() {
    const filters = useListFilters(['type', 'status'] as const)
    return (
      <div>
        <span data-testid="state">{`${filters.values.type ?? '-'} ${filters.values.status ?? '-'} ${filters.active}`}</span>
        <button onClick={() => filters.set({ type: 'backup.create' })}>set</button>
        <button onClick={filters.clear}>clear</button>
      </div>
    )
  }

  it('keeps the filters in the query string and clears them all at once', () => {
    window.history.replaceState(null, '', '/t/1/operations?status=running&other=keep')
    renderWithProviders(<Filters />)
    expect(screen.getByTestId('state').textContent).toBe('- running true')
    fireEvent.click(screen.getByText('set'))
    expect(new URLSearchParams(window.location.search).get('type')).toBe('backup.create')
    expect(screen.getByTestId('state').textContent).toBe('backup.create running true')
    fireEvent.click(screen.getByText('clear'))
    expect(window.location.search).toBe('?other=keep')
    expect(screen.getByTestId('state').textContent).toBe('- - false')
  })
})
