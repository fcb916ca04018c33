import { Center, Loader } from '@mantine/core'
import { useQueryClient } from '@tanstack/react-query'
import { Suspense, useEffect } from 'react'
import { useMe } from '../features/auth/api.ts'
import { LoginPage } from '../features/auth/login-page.tsx'
import { notifications } from '@mantine/notifications'
import { ApiError, errorMessage, setStepUpHandler, setUnauthorizedHandler } from '../lib/api.ts'
import { keepForResume, resumePending, stepUpUrl } from '../features/auth/step-up.ts'
import { navigate, useLocation } from '../lib/router.tsx'
import { ErrorState } from '../components/states.tsx'
import { isConsolePath, preloadPageFor, Routes } from './routes.tsx'
import { Shell } from './shell.tsx'

// The first page's chunk downloads beside the first /api/me.
preloadPageFor(window.location.pathname)

export function App() {
  const queryClient = useQueryClient()
  const { pathname } = useLocation()

  // Any 401 means the session is gone: go to the sign-in page once, remembering where we were.
  useEffect(() => {
    let leaving = false
    setUnauthorizedHandler(() => {
      if (leaving || window.location.pathname === '/login') return
      leaving = true
      const here = window.location.pathname + window.location.search
      // "Your session has ended" only for someone who was signed in; a new visitor just sees the form.
      const expired = queryClient.getQueryData(['me']) !== undefined ? 'expired=1&' : ''
      navigate(`/login?${expired}next=${encodeURIComponent(here)}`, { replace: true })
      // After the signed-in pages unmounted, so nothing refetches into another 401.
      setTimeout(() => {
        queryClient.clear()
        leaving = false
      }, 0)
    })
    return () => setUnauthorizedHandler(undefined)
  }, [queryClient])

  // A destructive action that needs a fresh sign-in: keep it, sign in again, come back, send it once (ADR 028).
  useEffect(() => {
    setStepUpHandler((request, details) => {
      if (request.method === 'GET' || request.body instanceof FormData) return
      const page = window.location.pathname + window.location.search
      keepForResume({
        method: request.method as 'POST' | 'PATCH' | 'DELETE',
        path: request.path,
        body: request.body,
        page,
      })
      window.location.assign(stepUpUrl(details, page))
    })
    return () => setStepUpHandler(undefined)
  }, [])

  if (pathname === '/login') return <LoginPage knownPath={isConsolePath} />
  return <SignedIn />
}

/** After a fresh sign-in, the action that asked for it goes ahead once. */
function ResumeStepUp() {
  const queryClient = useQueryClient()
  useEffect(() => {
    resumePending(window.location.pathname + window.location.search)
      .then((resumed) => {
        if (!resumed) return
        // A page whose own object was deleted has nothing left to show: go up to its list.
        const deleted = resumed.action.method === 'DELETE' ? resumed.action.path.split('/').pop() : undefined
        const here = window.location.pathname
        if (deleted && here.endsWith(`/${deleted}`)) navigate(here.slice(0, -deleted.length - 1), { replace: true })
        void queryClient.invalidateQueries()
        notifications.show({ color: 'green', message: 'Signed in again: the action went ahead' })
      })
      .catch((error: unknown) =>
        notifications.show({ color: 'red', message: `The action failed: ${errorMessage(error)}` }),
      )
  }, [queryClient])
  return null
}

function SignedIn() {
  const me = useMe()
  if (me.isPending) return <FullPageLoader />
  // A 401 is already on its way to /login (the unauthorized handler).
  if (me.isError) return isUnauthorized(me.error) ? <FullPageLoader /> : <ErrorState error={me.error} />
  return (
    <Shell me={me.data}>
      <ResumeStepUp />
      <Suspense fallback={<FullPageLoader />}>
        <Routes me={me.data} />
      </Suspense>
    </Shell>
  )
}

const FullPageLoader = () => (
  <Center mih="60vh">
    <Loader aria-label="Loading" />
  </Center>
)

const isUnauthorized = (error: unknown) => error instanceof ApiError && error.status === 401
