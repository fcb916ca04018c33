import { RoleRulesPage } from '../features/auth/role-rules-page.tsx'
import { Anchor, Stack, Text, Title } from '@mantine/core'
import { type ReactNode, useEffect } from 'react'
import { can, canOpenTenantsPage, landingTenant } from '../lib/capabilities.ts'
import { matchTenantRoute, type TenantRouteKey } from '../lib/route-table.ts'
import { Link, navigate, useLocation } from '../lib/router.tsx'
import type { Me, MeTenant } from '../lib/types.ts'
import { lastTenant, rememberTenant } from './last-tenant.ts'
import { lazyPage } from './lazy-page.tsx'

// Each page is its own chunk: the first download holds the shell and the page it opens on.
const pages = {
  home: lazyPage(() => import('../features/tenants/tenant-home.tsx').then((m) => m.TenantHome)),
  inventory: lazyPage(() => import('../features/inventory/inventory-page.tsx').then((m) => m.InventoryPage)),
  item: lazyPage(() => import('../features/inventory/item-page.tsx').then((m) => m.ItemPage)),
  changes: lazyPage(() => import('../features/inventory/changes-page.tsx').then((m) => m.ChangesPage)),
  assignments: lazyPage(() => import('../features/assignments/assignments-page.tsx').then((m) => m.AssignmentsPage)),
  backups: lazyPage(() => import('../features/backups/backups-page.tsx').then((m) => m.BackupsPage)),
  backup: lazyPage(() => import('../features/backups/backup-page.tsx').then((m) => m.BackupPage)),
  restore: lazyPage(() => import('../features/restore/restore-plan-page.tsx').then((m) => m.RestorePlanPage)),
  operations: lazyPage(() => import('../features/operations/operations-page.tsx').then((m) => m.OperationsPage)),
  run: lazyPage(() => import('../features/operations/run-page.tsx').then((m) => m.RunPage)),
  schedules: lazyPage(() => import('../features/schedules/schedules-page.tsx').then((m) => m.SchedulesPage)),
  findings: lazyPage(() => import('../features/findings/findings-page.tsx').then((m) => m.FindingsPage)),
  audit: lazyPage(() => import('../features/audit/audit-page.tsx').then((m) => m.AuditPage)),
  members: lazyPage(() => import('../features/tenants/members-page.tsx').then((m) => m.MembersPage)),
  tenants: lazyPage(() => import('../features/tenants/tenants-page.tsx').then((m) => m.TenantsPage)),
  tokens: lazyPage(() => import('../features/account/tokens-page.tsx').then((m) => m.TokensPage)),
  overview: lazyPage(() => import('../features/overview/overview-page.tsx').then((m) => m.OverviewPage)),
  tenantGroups: lazyPage(() => import('../features/overview/tenant-groups-page.tsx').then((m) => m.TenantGroupsPage)),
  compare: lazyPage(() => import('../features/compare/compare-page.tsx').then((m) => m.ComparePage)),
  comparison: lazyPage(() => import('../features/compare/compare-page.tsx').then((m) => m.ComparisonPage)),
} satisfies Record<
  TenantRouteKey | 'tenants' | 'tokens' | 'overview' | 'tenantGroups' | 'compare' | 'comparison',
  unknown
>
const TenantHome = pages.home.Page
const InventoryPage = pages.inventory.Page
const ItemPage = pages.item.Page
const ChangesPage = pages.changes.Page
const AssignmentsPage = pages.assignments.Page
const BackupsPage = pages.backups.Page
const BackupPage = pages.backup.Page
const RestorePlanPage = pages.restore.Page
const OperationsPage = pages.operations.Page
const RunPage = pages.run.Page
const SchedulesPage = pages.schedules.Page
const FindingsPage = pages.findings.Page
const AuditPage = pages.audit.Page
const MembersPage = pages.members.Page
const TenantsPage = pages.tenants.Page
const TokensPage = pages.tokens.Page
const OverviewPage = pages.overview.Page
const TenantGroupsPage = pages.tenantGroups.Page
const ComparePage = pages.compare.Page
const ComparisonPage = pages.comparison.Page

/** The signed-in user's own pages. */
export const TOKENS_PATH = '/account/tokens'
/** Every tenant at once (the landing page for members of more than one), and the tenant groups admins manage. */
export const OVERVIEW_PATH = '/overview'
export const TENANT_GROUPS_PATH = '/admin/tenant-groups'
/** Entra role rules (sign-in with Microsoft), admins only. */
export const ROLE_RULES_PATH = '/admin/role-rules'
/** Compare two states (`?left=…&right=…` compares at once), and one comparison's result. */
export const COMPARE_PATH = '/compare'
const comparisonIdOf = (pathname: string) => /^\/compare\/([^/]+)$/.exec(pathname)?.[1]

/** What each route of the table (lib/route-table.ts) renders. */
const render: Record<TenantRouteKey, (tenant: MeTenant, me: Me, params: Record<string, string>) => ReactNode> = {
  home: (t) => <TenantHome tenant={t} />,
  inventory: (t) => <InventoryPage tenant={t} />,
  item: (t, _me, p) => <ItemPage key={p.itemId} tenant={t} itemId={p.itemId!} />,
  changes: (t) => <ChangesPage tenant={t} />,
  assignments: (t) => <AssignmentsPage tenant={t} />,
  backups: (t) => <BackupsPage tenant={t} />,
  backup: (t, me, p) => <BackupPage key={p.backupId} tenant={t} backupId={p.backupId!} tenants={me.tenants} />,
  restore: (t, _me, p) => <RestorePlanPage key={p.planId} tenant={t} planId={p.planId!} />,
  operations: (t, me) => <OperationsPage tenant={t} me={me} />,
  run: (t, me, p) => <RunPage key={p.runId} tenant={t} me={me} runId={p.runId!} />,
  schedules: (t) => <SchedulesPage tenant={t} />,
  findings: (t) => <FindingsPage tenant={t} />,
  audit: (t) => <AuditPage tenant={t} />,
  members: (t, me) => <MembersPage tenant={t} me={me} />,
}

/** Starts downloading the page a path needs, so it is there by the time /api/me has answered. */
export function preloadPageFor(pathname: string) {
  if (pathname === TENANT_GROUPS_PATH) void pages.tenantGroups.preload()
  else if (pathname.startsWith('/admin')) void pages.tenants.preload()
  if (pathname === OVERVIEW_PATH) void pages.overview.preload()
  if (pathname === TOKENS_PATH) void pages.tokens.preload()
  if (pathname === COMPARE_PATH) void pages.compare.preload()
  if (comparisonIdOf(pathname)) void pages.comparison.preload()
  const match = matchTenantRoute(pathname)
  if (match) void pages[match.route.key].preload()
}

/** The other pages, while the browser has nothing better to do: navigation then renders at once. */
function preloadAllWhenIdle() {
  const all = () => Object.values(pages).forEach((page) => void page.preload())
  if ('requestIdleCallback' in window) window.requestIdleCallback(all, { timeout: 3000 })
  else setTimeout(all, 1000)
}

const STATIC_PATHS = [
  '/',
  '/admin',
  '/admin/tenants',
  TOKENS_PATH,
  OVERVIEW_PATH,
  TENANT_GROUPS_PATH,
  ROLE_RULES_PATH,
  COMPARE_PATH,
]

/** Whether a path is a page of the console (where sign-in may send the user back to). */
export const isConsolePath = (pathname: string) =>
  STATIC_PATHS.includes(pathname) || comparisonIdOf(pathname) !== undefined || matchTenantRoute(pathname) !== undefined

export function Routes({ me }: { me: Me }) {
  const { pathname } = useLocation()
  useEffect(preloadAllWhenIdle, [])

  if (pathname === '/' || pathname === '') return <Home me={me} />
  if (pathname === OVERVIEW_PATH) return <OverviewPage />
  if (pathname === TENANT_GROUPS_PATH) return me.user.is_admin ? <TenantGroupsPage me={me} /> : <NotFound what="page" />
  if (pathname === ROLE_RULES_PATH) return me.user.is_admin ? <RoleRulesPage me={me} /> : <NotFound what="page" />
  if (pathname === '/admin' || pathname === '/admin/tenants') {
    return canOpenTenantsPage(me) ? <TenantsPage me={me} /> : <NotFound what="page" />
  }
  if (pathname === TOKENS_PATH) return <TokensPage me={me} />
  if (pathname === COMPARE_PATH) return <ComparePage me={me} />
  const comparisonId = comparisonIdOf(pathname)
  if (comparisonId) return <ComparisonPage key={comparisonId} comparisonId={decodeURIComponent(comparisonId)} />
  const match = matchTenantRoute(pathname)
  if (!match) return <NotFound what="page" />
  const tenant = me.tenants.find((t) => t.id === match.params.tenantId)
  if (!tenant) return <NotFound what="tenant" />
  if (!can(tenant, match.route.capability)) return <NotFound what="page" />
  return <Remember tenantId={tenant.id}>{render[match.route.key](tenant, me, match.params)}</Remember>
}

function Remember({ tenantId, children }: { tenantId: string; children: ReactNode }) {
  useEffect(() => rememberTenant(tenantId), [tenantId])
  return children
}

/** `/`: the overview for members of several tenants, else straight to their tenant; an empty state for members of none. */
function Home({ me }: { me: Me }) {
  const tenant = landingTenant(me, lastTenant())
  const target = me.tenants.length > 1 ? OVERVIEW_PATH : tenant ? `/t/${tenant.id}` : undefined
  useEffect(() => {
    if (target) navigate(target, { replace: true })
  }, [target])
  if (target) return null
  return (
    <Stack gap="xs" maw={560}>
      <Title order={2}>Welcome, {me.user.name}</Title>
      <Text>You are not a member of any tenant yet.</Text>
      {me.user.is_admin ? (
        <Text>
          As a workspace admin you can{' '}
          <Anchor component={Link} to="/admin/tenants">
            connect a Microsoft tenant
          </Anchor>
          .
        </Text>
      ) : (
        <Text c="dimmed">Ask a tenant owner to add you.</Text>
      )}
    </Stack>
  )
}

function NotFound({ what }: { what: 'page' | 'tenant' }) {
  return (
    <Stack gap="xs">
      <Title order={2}>{what === 'tenant' ? 'Tenant not found' : 'Page not found'}</Title>
      <Text c="dimmed">
        {what === 'tenant'
          ? 'This tenant does not exist or you are not one of its members.'
          : 'This page does not exist or your role does not include it.'}
      </Text>
      <Anchor component={Link} to="/">
        Go to the start page
      </Anchor>
    </Stack>
  )
}
