import { Alert, Center, Loader, Text, Title } from '@mantine/core'
import { errorMessage } from '../lib/api.ts'
import { wrapAnywhere } from './long-name.tsx'

export function ErrorState({ error, title = 'Could not load this page' }: { error: unknown; title?: string }) {
  return (
    <Alert color="red" variant="light" title={title} m="md">
      {errorMessage(error)}
    </Alert>
  )
}

export const LoadingState = ({ label = 'Loading' }: { label?: string }) => (
  <Center py="xl">
    <Loader size="sm" aria-label={label} />
  </Center>
)

export const EmptyText = ({ children }: { children: React.ReactNode }) => (
  <Text c="dimmed" ta="center" py="xl">
    {children}
  </Text>
)

/** A page's heading: what it belongs to (dimmed), then its title. */
export const PageTitle = ({ eyebrow, children }: { eyebrow: React.ReactNode; children: React.ReactNode }) => (
  <div>
    <Text size="sm" c="dimmed" style={wrapAnywhere}>
      {eyebrow}
    </Text>
    <Title order={2} style={wrapAnywhere}>
      {children}
    </Title>
  </div>
)
