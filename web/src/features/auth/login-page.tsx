import { Alert, Box, Button, Center, Divider, Paper, Stack, Text, TextInput, Title } from '@mantine/core'
import { useQuery, useQueryClient } from '@tanstack/react-query'
import { type FormEvent, useState } from 'react'
import { ApiError, errorMessage } from '../../lib/api.ts'
import { navigate, useLocation } from '../../lib/router.tsx'
import { microsoftSignInUrl, providersQuery, signIn } from './api.ts'
import { InviteAccept } from './invite-accept.tsx'

const HERE = 'http://console.invalid'
/** A backslash or a control character: browsers read `/\\host` as `//host`, and drop tabs and newlines from URLs. */
const unsafe = (text: string) =>
  text.includes('\\') || [...text].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)

/**
 * Where to go after signing in: a path on this site that the console's route table knows, as
 * the URL parser reads it. Anything else (another origin, `/\evil.example`, `/%5Cevil.example`,
 * `/%09/evil.example`, a path no page has) goes to the start page.
 */
export function safeNext(next: string | null, knownPath: (pathname: string) => boolean): string {
  if (!next || !next.startsWith('/') || next.startsWith('//') || unsafe(next)) return '/'
  let url: URL
  let decoded: string
  try {
    url = new URL(next, HERE)
    decoded = decodeURIComponent(url.pathname)
  } catch {
    return '/'
  }
  if (url.origin !== HERE || unsafe(decoded) || decoded.includes('//') || !knownPath(url.pathname)) return '/'
  return url.pathname + url.search + url.hash
}

/** `knownPath`: whether a path is one of the console's pages (the app's route table). */
export function LoginPage({ knownPath }: { knownPath: (pathname: string) => boolean }) {
  const queryClient = useQueryClient()
  const { search } = useLocation()
  const [email, setEmail] = useState('')
  const [password, setPassword] = useState('')
  const [error, setError] = useState<string | null>(null)
  const [pending, setPending] = useState(false)
  const expired = search.get('expired') === '1'
  const providers = useQuery(providersQuery)
  const microsoft = providers.data?.microsoft === true
  const passwords = providers.data?.password !== false
  // A refused Microsoft sign-in comes back here with the server's reason (README: "When it does not work").
  const refused = search.get('error') ? (search.get('error_description') ?? search.get('error')) : null
  const stepUp = search.get('step_up') === '1'

  const inviteToken = search.get('invite')

  async function submit(event: FormEvent) {
    event.preventDefault()
    setError(null)
    setPending(true)
    try {
      await signIn(email, password)
      queryClient.clear()
      navigate(safeNext(search.get('next'), knownPath), { replace: true })
    } catch (err) {
      setPassword('')
      // 401: wrong e-mail or password; 429: too many attempts — the server's message says which.
      setError(err instanceof ApiError ? err.message : `Sign-in failed: ${errorMessage(err)}`)
    } finally {
      setPending(false)
    }
  }

  if (inviteToken)
    return (
      <Center mih="100vh" p="md">
        <Paper withBorder shadow="sm" p="xl" w={380} component="main">
          <Title order={1} size="h3" mb="md">
            TenantAtlas
          </Title>
          <InviteAccept token={inviteToken} />
        </Paper>
      </Center>
    )

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
            {stepUp && (
              <Alert color="blue" variant="light">
                This action needs a recent sign-in: sign in again and it goes ahead.
              </Alert>
            )}
            {refused && !error && (
              <Alert color="red" variant="light" role="alert">
                {refused}
              </Alert>
            )}
            {microsoft && (
              <Button
                component="a"
                href={microsoftSignInUrl(safeNext(search.get('next'), knownPath))}
                variant={passwords ? 'default' : 'filled'}
                data-testid="sign-in-microsoft"
              >
                Sign in with Microsoft
              </Button>
            )}
            {microsoft && passwords && <Divider label="or with a password" labelPosition="center" />}
            {passwords && (
              <>
                <TextInput
                  label="E-mail"
                  type="email"
                  autoComplete="username"
                  required
                  value={email}
                  onChange={(e) => setEmail(e.currentTarget.value)}
                  autoFocus
                />
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
              </>
            )}
          </Stack>
        </form>
      </Paper>
    </Center>
  )
}
