import type { EmulatorServer } from '../../src/emulator/server.ts'
import { control, graphGet, rawToken } from '../graph/emulator-helpers.ts'

export type TruthObject = {
  type: string
  id: string
  display_name: string
  content: Record<string, unknown> & { assignments?: Record<string, unknown>[]; roleScopeTagIds?: string[] }
}

/** The emulator's ground truth with each object's full content, by Graph id. */
export async function truthWithContent(
  emulator: EmulatorServer,
  entraTenantId: string,
): Promise<Map<string, TruthObject>> {
  const { body } = await control<{ objects: TruthObject[] }>(
    emulator,
    'GET',
    `/tenants/${entraTenantId}/inventory?include=content`,
  )
  return new Map(body.objects.map((o) => [o.id, o]))
}

/** An assignment's target as a comparable string (ids are Intune's, formed from the object and the group). */
/** Of an object's assignments, those Graph still takes: none to a group the tenant has deleted. */
export const stillAssignable = (emulator: EmulatorServer, entraTenantId: string, assignments: unknown) =>
  ((assignments ?? []) as Record<string, unknown>[]).filter((a) => {
    const groupId = (a.target as { groupId?: unknown } | undefined)?.groupId
    return typeof groupId !== 'string' || emulator.tenant(entraTenantId)!.group(groupId) !== 'deleted'
  })

export const targetKey = (a: Record<string, unknown>) =>
  JSON.stringify(Object.entries((a.target ?? {}) as Record<string, unknown>).sort(([x], [y]) => x.localeCompare(y)))

/** Intune audit events the app wrote (not the control API's), per object id: how many times each object was written. */
export async function appWritesByObject(
  emulator: EmulatorServer,
  tenant: { entraTenantId: string; emulated: { client_id: string } },
  secret: string,
): Promise<Map<string, string[]>> {
  const token = (await rawToken(emulator, tenant.entraTenantId, tenant.emulated.client_id, secret)).body
    .access_token as string
  const out = new Map<string, string[]>()
  let url: string | undefined = '/beta/deviceManagement/auditEvents?$top=999'
  while (url) {
    const page = await graphGet(emulator, token, url)
    for (const event of (page.body.value ?? []) as {
      actor?: { type?: string }
      activity?: string
      resources?: { resourceId?: string }[]
    }[]) {
      if (event.actor?.type !== 'Application') continue
      const id = event.resources?.[0]?.resourceId
      if (id) out.set(id, [...(out.get(id) ?? []), event.activity ?? ''])
    }
    url = page.body['@odata.nextLink'] as string | undefined
  }
  return out
}
