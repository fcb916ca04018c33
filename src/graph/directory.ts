import { GraphError } from './errors.ts'
import type { GraphClient, GraphObject } from './graph-client.ts'
import type { GraphTenantContext } from './tenant-context.ts'

/**
 * Entra directory reads for "what reaches this user / device / group": a user by UPN, a device by
 * name, and the groups each is in through nesting (Graph's transitiveMemberOf). The permissions are
 * the least-privileged ones Graph documents for application access; a missing one fails as
 * `missing_permission` naming it, like every read of the Graph client.
 */
export const DIRECTORY_PERMISSIONS = {
  user: 'User.Read.All',
  device: 'Device.Read.All',
  membership: 'GroupMember.Read.All',
} as const

export type DirectoryGroup = { id: string; name: string }

/** An object's display name as text, or its id when Graph gave none. */
export const displayNameOf = (o: { id: string; displayName?: unknown }) =>
  typeof o.displayName === 'string' ? o.displayName : o.id

const quoted = (value: string) => `'${value.replaceAll("'", "''")}'`

/** A user by UPN (or object id); null when the tenant has none. */
export async function findUser(graph: GraphClient, ctx: GraphTenantContext, upn: string): Promise<GraphObject | null> {
  try {
    return await graph.get<GraphObject>(
      ctx,
      `/v1.0/users/${encodeURIComponent(upn)}?$select=id,displayName,userPrincipalName`,
      {
        permission: DIRECTORY_PERMISSIONS.user,
        subject: 'users',
      },
    )
  } catch (error) {
    if (error instanceof GraphError && error.code === 'not_found') return null
    throw error
  }
}

/** A device by its display name (Entra's `devices`); null when none has it. Several with one name: the first. */
export async function findDevice(
  graph: GraphClient,
  ctx: GraphTenantContext,
  name: string,
): Promise<GraphObject | null> {
  const url = `/v1.0/devices?$filter=${encodeURIComponent(`displayName eq ${quoted(name)}`)}&$select=id,displayName`
  for await (const page of graph.pagesOf(ctx, url, { permission: DIRECTORY_PERMISSIONS.device, subject: 'devices' })) {
    if (page[0]) return page[0]
  }
  return null
}

/** A group by id; null when it does not exist (or was deleted). */
export async function findGroup(graph: GraphClient, ctx: GraphTenantContext, id: string): Promise<GraphObject | null> {
  try {
    return await graph.get<GraphObject>(ctx, `/v1.0/groups/${encodeURIComponent(id)}?$select=id,displayName`, {
      permission: DIRECTORY_PERMISSIONS.membership,
      subject: 'groups',
    })
  } catch (error) {
    if (error instanceof GraphError && error.code === 'not_found') return null
    throw error
  }
}

/** Every group a user, device or group is in, directly or through nested groups (directory roles left out). */
export async function transitiveGroupsOf(
  graph: GraphClient,
  ctx: GraphTenantContext,
  kind: 'users' | 'devices' | 'groups',
  id: string,
): Promise<DirectoryGroup[]> {
  const url = `/v1.0/${kind}/${encodeURIComponent(id)}/transitiveMemberOf?$select=id,displayName`
  const groups: DirectoryGroup[] = []
  for await (const page of graph.pagesOf(ctx, url, {
    permission: DIRECTORY_PERMISSIONS.membership,
    subject: 'group memberships',
  })) {
    for (const o of page) {
      if (o['@odata.type'] === undefined || o['@odata.type'] === '#microsoft.graph.group')
        groups.push({ id: o.id, name: displayNameOf(o) })
    }
  }
  return groups
}
