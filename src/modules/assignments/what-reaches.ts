import type { Executor } from '../../db/engine.ts'
import { findTenant } from '../tenants/repository.ts'
import {
  displayNameOf,
  findDevice,
  findGroup,
  findUser,
  transitiveGroupsOf,
  type DirectoryGroup,
} from '../../graph/directory.ts'
import { GraphError } from '../../graph/errors.ts'
import type { GraphClient } from '../../graph/graph-client.ts'
import type { SecretBox } from '../../lib/crypto.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { ConnectionConfigError, graphContextOf } from '../tenants/graph-context.ts'
import { assignmentsReaching, namesByExternalId } from './repository.ts'
import { filterIdsOf, resolveAssignments } from './resolve.ts'
import type { AssignmentResolution, AssignmentsQuery } from './schemas.ts'

type Warning = AssignmentResolution['warnings'][number]

/** A Graph read that cannot be made (no permission, no emulator, Graph down) is a warning, never a 500. */
async function orWarning<T>(warnings: Warning[], read: () => Promise<T> | T, fallback: T): Promise<T> {
  try {
    return await read()
  } catch (error) {
    if (error instanceof GraphError || error instanceof ConnectionConfigError) {
      warnings.push({ code: error.code, message: error.message })
      return fallback
    }
    throw error
  }
}

/**
 * What reaches a group, a user (by UPN) or a device (by name) in a tenant: the subject's groups
 * through nesting are read from Graph (transitiveMemberOf), the assignments from the inventory. A
 * user reaches All users assignments, a device All devices ones, a group both (its members may be
 * either). When Graph cannot say which groups a subject is in, the answer holds what is certain and
 * says what is missing.
 */
export async function whatReaches(
  db: Executor,
  graph: GraphClient,
  secrets: SecretBox,
  emulatorUrl: string | undefined,
  tenantId: string,
  query: AssignmentsQuery,
): Promise<AssignmentResolution> {
  const tenant = await findTenant(db, tenantId)
  if (!tenant) throw notFound('Tenant')
  const warnings: Warning[] = []
  const ctx = await orWarning(warnings, () => graphContextOf(tenant, secrets, emulatorUrl), null)
  const kind = query.group_id !== undefined ? 'group' : query.user !== undefined ? 'user' : 'device'
  let subject: AssignmentResolution['subject']
  let groups: DirectoryGroup[] = []
  if (kind === 'group') {
    const id = query.group_id!
    const known = await namesByExternalId(db, tenantId, 'group', [id])
    const found = ctx ? await orWarning(warnings, () => findGroup(graph, ctx, id), undefined) : undefined
    if (found === null) throw validationError([{ field: 'group_id', message: `no group ${id} in this tenant` }])
    subject = { kind, id, name: found ? displayNameOf(found) : (known.get(id) ?? id) }
    const parents = ctx ? await orWarning(warnings, () => transitiveGroupsOf(graph, ctx, 'groups', id), []) : []
    groups = [{ id, name: subject.name }, ...parents.filter((g) => g.id !== id)]
  } else {
    const wanted = kind === 'user' ? query.user! : query.device!
    const found = ctx
      ? await orWarning(
          warnings,
          () => (kind === 'user' ? findUser(graph, ctx, wanted) : findDevice(graph, ctx, wanted)),
          undefined,
        )
      : undefined
    if (found === null) {
      throw validationError([
        { field: kind, message: `no ${kind} ${kind === 'user' ? 'with the UPN' : 'named'} ${wanted} in this tenant` },
      ])
    }
    subject = { kind, id: found?.id ?? null, name: found ? displayNameOf(found) : wanted }
    if (found && ctx)
      groups = await orWarning(
        warnings,
        () => transitiveGroupsOf(graph, ctx, kind === 'user' ? 'users' : 'devices', found.id),
        [],
      )
  }
  const reaching = await assignmentsReaching(
    db,
    tenantId,
    groups.map((g) => g.id),
    { allUsers: kind !== 'device', allDevices: kind !== 'user' },
  )
  const filterNames = await namesByExternalId(db, tenantId, 'assignmentFilter', filterIdsOf(reaching))
  const names = new Map(groups.map((g) => [g.id, g.name]))
  return { subject, groups, assignments: resolveAssignments(tenantId, reaching, names, filterNames), warnings }
}
