import { Button, Group, Paper, Stack, Table, Text } from '@mantine/core'
import { useMediaQuery } from '@mantine/hooks'
import type { CSSProperties, ReactNode } from 'react'
import { useSearchParams } from '../lib/router.tsx'
import { EmptyText, ErrorState, LoadingState } from './states.tsx'

/**
 * The console's one list: a table on a wide window, one stacked card per row at 600 px and below
 * (each value under its column's name), the empty / filtered-empty / error / loading states, and
 * "Load more" for keyset pages. Every list page renders its rows through it (ADR 026).
 */
export type Column<T> = {
  key: string
  /** The column's name: the table header, and the label of the value on a narrow window. */
  label: string
  /** A header other than the label (a "select all" checkbox). */
  header?: ReactNode
  cell: (row: T) => ReactNode
  /** Kept on one line (dates, short labels). */
  nowrap?: boolean
  width?: number | string
  /** `data-testid` of the column's cells. */
  testId?: string
}

/** The part of a TanStack query (plain or infinite) the list reads. */
export type ListQuery = {
  isPending: boolean
  isError: boolean
  error: unknown
  hasNextPage?: boolean
  isFetchingNextPage?: boolean
  fetchNextPage?: () => unknown
  isPlaceholderData?: boolean
}

export type DataListProps<T> = {
  rows: readonly T[]
  rowKey: (row: T, index: number) => string
  columns: readonly Column<T>[]
  query?: ListQuery
  /** What an empty list means when no filter is set ("No backups yet: …"). */
  empty: ReactNode
  /** Whether the user's filters are narrowing the list: an empty answer then says so and offers to clear them. */
  filtered?: boolean
  filteredEmpty?: ReactNode
  onClearFilters?: () => void
  testId?: string
  rowTestId?: string
  /** Further attributes of a row (`data-run-id`, a style). */
  rowProps?: (row: T) => Record<string, string | number | boolean | undefined | CSSProperties>
  loadingLabel?: string
  /** How wide the table must be before it scrolls sideways (wide windows only). */
  minWidth?: number
  /** "12 shown (all)" beside Load more. */
  showCount?: boolean
  /** What "shown" counts when a row stands for several records (a grouped row); the rows by default. */
  shownCount?: number
  verticalSpacing?: number | string
  highlightOnHover?: boolean
}

export const NARROW_QUERY = '(max-width: 600px)'

/** True on a phone-sized window, where lists stack. */
export function useNarrow(): boolean {
  return useMediaQuery(NARROW_QUERY, false, { getInitialValueInEffect: false }) ?? false
}

export function DataList<T>(props: DataListProps<T>) {
  const { rows, rowKey, columns, query, testId, rowTestId, rowProps } = props
  const narrow = useNarrow()
  if (query?.isPending) return <LoadingState label={props.loadingLabel ?? 'Loading'} />
  if (query?.isError) return <ErrorState error={query.error} />

  const body = narrow ? (
    <Stack gap="xs" data-testid={testId} data-layout="stacked">
      {rows.map((row, index) => (
        <Paper key={rowKey(row, index)} withBorder p="xs" radius="sm" data-testid={rowTestId} {...rowProps?.(row)}>
          <Stack gap={4}>
            {columns.map((column) => (
              <div key={column.key}>
                <Text size="xs" c="dimmed">
                  {column.label}
                </Text>
                <div data-testid={column.testId} style={{ overflowWrap: 'anywhere' }}>
                  {column.cell(row)}
                </div>
              </div>
            ))}
          </Stack>
        </Paper>
      ))}
    </Stack>
  ) : (
    <Table.ScrollContainer minWidth={props.minWidth ?? 0}>
      <Table
        data-testid={testId}
        data-layout="table"
        striped
        highlightOnHover={props.highlightOnHover ?? true}
        verticalSpacing={props.verticalSpacing ?? 6}
        style={{ opacity: query?.isPlaceholderData ? 0.6 : 1 }}
      >
        <Table.Thead>
          <Table.Tr>
            {columns.map((column) => (
              <Table.Th key={column.key} w={column.width} style={column.nowrap ? { whiteSpace: 'nowrap' } : undefined}>
                {column.header ?? column.label}
              </Table.Th>
            ))}
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((row, index) => (
            <Table.Tr key={rowKey(row, index)} data-testid={rowTestId} {...rowProps?.(row)}>
              {columns.map((column) => (
                <Table.Td
                  key={column.key}
                  data-testid={column.testId}
                  style={column.nowrap ? { whiteSpace: 'nowrap' } : undefined}
                >
                  {column.cell(row)}
                </Table.Td>
              ))}
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  )

  return (
    <>
      {rows.length > 0 && body}
      {rows.length === 0 &&
        (props.filtered ? (
          <Stack align="center" gap={4} py="xl" data-testid="list-filtered-empty">
            <Text c="dimmed" ta="center">
              {props.filteredEmpty ?? 'Nothing matches these filters.'}
            </Text>
            {props.onClearFilters && (
              <Button variant="subtle" size="xs" onClick={props.onClearFilters}>
                Clear filters
              </Button>
            )}
          </Stack>
        ) : (
          <div data-testid="list-empty">
            <EmptyText>{props.empty}</EmptyText>
          </div>
        ))}
      {(query?.hasNextPage || (props.showCount && rows.length > 0)) && (
        <Group justify="center" gap="md">
          {props.showCount && (
            <Text size="sm" c="dimmed" data-testid="list-count">
              {(props.shownCount ?? rows.length).toLocaleString('en')} shown{query?.hasNextPage ? '' : ' (all)'}
            </Text>
          )}
          {query?.hasNextPage && (
            <Button
              variant="default"
              onClick={() => void query.fetchNextPage?.()}
              loading={query.isFetchingNextPage}
              data-testid="list-load-more"
            >
              Load more
            </Button>
          )}
        </Group>
      )}
    </>
  )
}

/**
 * A list's filters as query-string keys: a filtered view is a link, and Back restores it.
 * `active` says whether any is set (the list then says "nothing matches" instead of "empty").
 */
export function useListFilters<K extends string>(keys: readonly K[]) {
  const [params, setParams] = useSearchParams()
  const values = Object.fromEntries(keys.map((key) => [key, params.get(key)])) as Record<K, string | null>
  const active = keys.some((key) => Boolean(params.get(key)))
  const set = (patch: Partial<Record<K, string | null>>) => setParams(patch as Record<string, string | null>)
  const clear = () => setParams(Object.fromEntries(keys.map((key) => [key, null])))
  return { values, active, set, clear }
}
