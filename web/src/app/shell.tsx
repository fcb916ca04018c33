import { AppShell, Avatar, Burger, Group, Menu, NavLink, Select, Text, UnstyledButton } from '@mantine/core'
import { useQuery } from '@tanstack/react-query'
import { useDisclosure } from '@mantine/hooks'
import { useQueryClient } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { LiveRunsProvider } from '../components/live-runs.tsx'
import { lastTenant } from './last-tenant.ts'
import { signOut } from '../features/auth/api.ts'
import { NotificationsBell } from '../features/notifications/notifications-bell.tsx'
import { ProgressWidget } from '../features/operations/progress-widget.tsx'
import { can, canOpenTenantsPage } from '../lib/capabilities.ts'
import { switchTenantPath, tenantNavigation } from '../lib/route-table.ts'
import { Link, navigate, useLocation } from '../lib/router.tsx'
import type { Me, MeTenant } from '../lib/types.ts'
import { LongName } from '../components/long-name.tsx'
import { overviewQuery } from '../features/overview/api.ts'
import { tenantGroupsQuery } from '../lib/tenant-groups.ts'
import { HealthDot } from '../features/overview/health-dot.tsx'
import { groupNamesByTenant, matchesTenant } from '../lib/tenant-search.ts'
import type { Health } from '../lib/types.ts'
import { OVERVIEW_PATH, ROLE_RULES_PATH, TENANT_GROUPS_PATH, TOKENS_PATH } from './routes.tsx'

/** The tenant a console path belongs to (`/t/{tenantId}/…`), if any. */
export const tenantIdOf = (pathname: string): string | undefined =>
  pathname.startsWith('/t/') ? pathname.split('/')[2] : undefined

export function Shell({ me, children }: { me: Me; children: ReactNode }) {
  const { pathname } = useLocation()
  const [navOpened, nav] = useDisclosure()
  // Account and admin pages keep the tenant the user came from: its picker value and menu stay (issue 24 item 11).
  const keepsContext = pathname.startsWith('/account') || pathname.startsWith('/admin')
  const tenant = me.tenants.find((t) => t.id === (tenantIdOf(pathname) ?? (keepsContext ? lastTenant() : undefined)))
  const watchesRuns = tenant !== undefined && can(tenant, 'operations.view')

  return (
    <LiveRunsProvider tenantId={tenant?.id} enabled={watchesRuns}>
      <AppShell
        header={{ height: 56 }}
        navbar={{ width: 232, breakpoint: 'sm', collapsed: { mobile: !navOpened } }}
        padding="md"
      >
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Group gap="md" wrap="nowrap" style={{ minWidth: 0, flex: 1 }}>
              <Burger
                opened={navOpened}
                onClick={nav.toggle}
                hiddenFrom="sm"
                size="sm"
                aria-label="Toggle navigation"
              />
              <UnstyledButton component={Link} to="/" aria-label="TenantAtlas home" visibleFrom="sm">
                <Text fw={700} size="lg">
                  TenantAtlas
                </Text>
              </UnstyledButton>
              {me.tenants.length > 0 && <TenantPicker me={me} tenant={tenant} pathname={pathname} />}
            </Group>
            <Group gap="xs" wrap="nowrap">
              <NotificationsBell />
              <UserMenu me={me} />
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs" aria-label="Main navigation">
          <Navigation me={me} tenant={tenant} pathname={pathname} onNavigate={nav.close} />
        </AppShell.Navbar>
        <AppShell.Main pb={96}>{children}</AppShell.Main>
      </AppShell>
      {watchesRuns && <ProgressWidget />}
    </LiveRunsProvider>
  )
}

/**
 * The tenant picker: searchable by name or by tenant group (typing a group's name lists its tenants),
 * each tenant with the overview's health dot and its groups.
 */
function TenantPicker({ me, tenant, pathname }: { me: Me; tenant: MeTenant | undefined; pathname: string }) {
  const overview = useQuery(overviewQuery(null))
  const groups = useQuery(tenantGroupsQuery)
  const health = new Map<string, Health>((overview.data?.data ?? []).map((row) => [row.tenant.id, row.health]))
  const groupsOf = groupNamesByTenant(groups.data?.data ?? [])
  return (
    <Select
      aria-label="Tenant"
      placeholder="Choose a tenant"
      data={me.tenants.map((t) => ({ value: t.id, label: t.name }))}
      filter={({ options, search }) =>
        (options as { value: string; label: string }[]).filter((o) => matchesTenant(o, search, groupsOf))
      }
      value={tenant?.id ?? null}
      onChange={(id) => {
        const target = me.tenants.find((t) => t.id === id)
        if (target) navigate(switchTenantPath(pathname, target))
      }}
      renderOption={({ option }) => (
        <Group gap={8} wrap="nowrap" data-testid="tenant-option">
          <HealthDot health={health.get(option.value)} />
          <Text size="sm">{option.label}</Text>
          {groupsOf.has(option.value) && (
            <Text size="xs" c="dimmed" truncate>
              {groupsOf.get(option.value)!.join(', ')}
            </Text>
          )}
        </Group>
      )}
      leftSection={tenant ? <HealthDot health={health.get(tenant.id)} /> : undefined}
      allowDeselect={false}
      searchable
      nothingFoundMessage="No tenant of yours (or tenant group) has this name"
      // 390 px: the picker shrinks so the bell and the account menu stay on screen.
      w={{ base: 170, sm: 260 }}
      data-testid="tenant-switcher"
    />
  )
}

function Navigation({
  me,
  tenant,
  pathname,
  onNavigate,
}: {
  me: Me
  tenant: MeTenant | undefined
  pathname: string
  onNavigate: () => void
}) {
  const isActive = (to: string, exact: boolean) =>
    exact ? pathname === to : pathname === to || pathname.startsWith(`${to}/`)
  return (
    <nav>
      {tenant && (
        <>
          <Text size="xs" tt="uppercase" c="dimmed" fw={700} px="sm" pt="xs" pb={4}>
            {tenant.name}
          </Text>
          {tenantNavigation(tenant).map((item) =>
            item.children ? (
              <NavLink key={item.key} label={item.label} defaultOpened childrenOffset="md" active={false}>
                {item.children.map((child) => (
                  <NavLink
                    key={child.key}
                    component={Link}
                    to={child.to}
                    label={child.label}
                    active={isActive(child.to, false)}
                    onClick={onNavigate}
                  />
                ))}
              </NavLink>
            ) : (
              <NavLink
                key={item.key}
                component={Link}
                to={item.to}
                label={item.label}
                active={isActive(item.to, item.key === 'home')}
                onClick={onNavigate}
              />
            ),
          )}
        </>
      )}
      {(me.tenants.length > 1 || canOpenTenantsPage(me)) && (
        <>
          <Text size="xs" tt="uppercase" c="dimmed" fw={700} px="sm" pt="md" pb={4}>
            Workspace
          </Text>
          {me.tenants.length > 1 && (
            <NavLink
              component={Link}
              to={OVERVIEW_PATH}
              label="All tenants"
              active={pathname === OVERVIEW_PATH}
              onClick={onNavigate}
            />
          )}
          {canOpenTenantsPage(me) && (
            <NavLink
              component={Link}
              to="/admin/tenants"
              label="Tenants"
              active={pathname.startsWith('/admin/tenants')}
              onClick={onNavigate}
            />
          )}
          {me.user.is_admin && (
            <NavLink
              component={Link}
              to={TENANT_GROUPS_PATH}
              label="Tenant groups"
              active={pathname === TENANT_GROUPS_PATH}
              onClick={onNavigate}
            />
          )}
          {me.user.is_admin && (
            <NavLink
              component={Link}
              to={ROLE_RULES_PATH}
              label="Role rules"
              active={pathname === ROLE_RULES_PATH}
              onClick={onNavigate}
            />
          )}
        </>
      )}
    </nav>
  )
}

function UserMenu({ me }: { me: Me }) {
  const queryClient = useQueryClient()
  async function leave() {
    try {
      await signOut()
    } finally {
      navigate('/login', { replace: true })
      setTimeout(() => queryClient.clear(), 0)
    }
  }
  return (
    <Menu position="bottom-end" width={240}>
      <Menu.Target>
        <UnstyledButton aria-label={`Account: ${me.user.name}`} px="xs" data-testid="account-menu">
          <Avatar size="sm" radius="xl" hiddenFrom="sm" color="indigo">
            {initials(me.user.name)}
          </Avatar>
          <Text size="sm" fw={500} visibleFrom="sm">
            <LongName maw={200}>{me.user.name}</LongName>
          </Text>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>
          Signed in as {me.user.name}
          <br />
          {me.user.email}
        </Menu.Label>
        <Menu.Item component={Link} to={TOKENS_PATH}>
          API tokens
        </Menu.Item>
        <Menu.Item onClick={() => void leave()}>Sign out</Menu.Item>
      </Menu.Dropdown>
    </Menu>
  )
}

/** "Ada Lovelace" → "AL": the account button on a narrow screen. */
const initials = (name: string) =>
  name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]!.toUpperCase())
    .join('') || '?'
