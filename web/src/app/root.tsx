import { Badge, MantineProvider, createTheme } from '@mantine/core'
import { Notifications } from '@mantine/notifications'
import { QueryClientProvider } from '@tanstack/react-query'
import { useState } from 'react'
import { App } from './app.tsx'
import { createQueryClient } from './query-client.ts'

const theme = createTheme({
  primaryColor: 'indigo',
  defaultRadius: 'sm',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  components: {
    // Status words are short: never clip them to "COMPLE…" in a narrow table cell.
    Badge: Badge.extend({
      styles: { root: { flexShrink: 0, minWidth: 'max-content' }, label: { overflow: 'visible' } },
    }),
  },
})

/** Providers: theme (light/dark follows the system), toasts, the query cache. */
export function Root() {
  const [queryClient] = useState(createQueryClient)
  return (
    <MantineProvider theme={theme} defaultColorScheme="auto">
      {/* Bottom centre: clear of the page actions (top right) and of the progress widget (bottom right). */}
      <Notifications position="bottom-center" limit={4} />
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </MantineProvider>
  )
}
