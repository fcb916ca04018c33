import { Badge, Code, Table, Text } from '@mantine/core'
import { EmptyText } from './states.tsx'
import type { DiffChange } from '../lib/types.ts'

const KIND_COLORS: Record<DiffChange['kind'], string> = { added: 'green', removed: 'red', changed: 'blue' }

/** A value as an admin reads it: text as is, anything else as compact JSON. */
export const showValue = (value: unknown) =>
  value === null || value === undefined ? '—' : typeof value === 'string' ? value : JSON.stringify(value)

/** The readable changes between two versions, side by side (before | after). */
export function DiffView({ changes }: { changes: DiffChange[] }) {
  if (changes.length === 0) return <EmptyText>No differences between these versions.</EmptyText>
  return (
    <Table.ScrollContainer minWidth={700}>
      <Table data-testid="diff-view" verticalSpacing={4} striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Setting</Table.Th>
            <Table.Th w={90}>Change</Table.Th>
            <Table.Th>Before</Table.Th>
            <Table.Th>After</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {changes.map((c) => (
            <Table.Tr key={c.path} data-testid="diff-row">
              <Table.Td>
                <Text size="sm" fw={500}>
                  {c.label}
                </Text>
                <Code fz={10} c="dimmed">
                  {c.path}
                </Code>
              </Table.Td>
              <Table.Td>
                <Badge size="sm" variant="light" color={KIND_COLORS[c.kind]}>
                  {c.kind}
                </Badge>
              </Table.Td>
              <Table.Td style={{ wordBreak: 'break-word' }}>{showValue(c.before)}</Table.Td>
              <Table.Td style={{ wordBreak: 'break-word' }}>{showValue(c.after)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  )
}
