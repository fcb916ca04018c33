import { Alert, Box, Button, Center, Paper, Stack, Text, TextInput, Title } from '@mantine/core'
import { useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { ApiError, errorMessage } from '../../lib/api.ts'
import { navigate, useLocation } from '../../lib/router.tsx'
import { signIn } from './api.ts'

/** Where to go after signing in: only a path on this site, never another origin. */
export function safeNext(next: string | null): string {
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/login') ? next : '/'
}

export function LoginPage() {
  const queryClient = useQueryClient()
  const { search } = useLocation()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [pending, setPending] = useState(false)
  const expired = search.get('expired') === '1'

  async function submit(event: FormEvent) {
    event.preventDefault()
    setError(null)
    setPending(true)
    try {
      await signIn(email, password)
      queryClient.clear()
      navigate(safeNext(search.get('next')), { replace: true })
    } catch (err) {
      setPassword('')
      // 401: wrong e-mail or password; 429: too many attempts — the server's message says which.
      setError(err instanceof ApiError ? err.message : `Sign-in failed: ${errorMessage(err)}`)
    } finally {
      setPending(false)
    }
  }

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w={380} component="main">
        <form onSubmit={(e) => void submit(e)} noValidate>
          <Stack gap="md">
            <Box>
              <Title order={1} size="h3">
                TenantAtlas
              </Title>
              <Text c="dimmed" size="sm">
                Sign in to the console
              </Text>
            </Box>
            {expired && !error && (
              <Alert color="blue" variant="light">
                Your session has ended: sign in again.
              </Alert>
            )}
            <TextInput label="E-mail" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} autoFocus />
            <TextInput
              label="Password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
            />
            {error && (
              <Alert color="red" variant="light" role="alert">
                {error}
              </Alert>
            )}
            <Button type="submit" loading={pending} disabled={!email || !password}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  )
}
