import { randomUUID } from 'node:crypto'
import type { EmulatorServer } from '../../src/emulator/server.ts'
import { control } from '../graph/emulator-helpers.ts'

/**
 * A browser's part in a Microsoft sign-in against the emulator, over HTTP: open the authorize URL
 * (single sign-on answers a redirect at once; otherwise the sign-in page), post the page's form as
 * the chosen user, and return where the emulator redirects (the relying party's callback URL).
 */
export class EmulatedBrowser {
  cookies = new Map<string, string>()
  /** Whether the last authorize showed the sign-in page (false: single sign-on answered). */
  sawSignInPage = false

  async authorize(url: string, user?: { upn: string; password?: string }): Promise<URL> {
    const first = await fetch(url, { redirect: 'manual', headers: this.#cookieHeader() })
    this.sawSignInPage = first.status === 200
    if (first.status === 302) return new URL(first.headers.get('location')!)
    const page = await first.text()
    if (first.status !== 200) throw new Error(`authorize answered ${first.status}: ${page}`)
    if (!user) throw new Error('the emulator shows its sign-in page and no user was given')
    const form = new URLSearchParams(new URL(url).searchParams)
    form.set('username', user.upn)
    form.set('password', user.password ?? '')
    const posted = await fetch(url.split('?')[0]!, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...this.#cookieHeader() },
      body: form,
    })
    for (const raw of posted.headers.getSetCookie()) {
      const [pair] = raw.split(';')
      const [name, value] = pair!.split('=')
      this.cookies.set(name!, value!)
    }
    if (posted.status !== 302) throw new Error(`sign-in page answered ${posted.status}: ${await posted.text()}`)
    return new URL(posted.headers.get('location')!)
  }

  #cookieHeader(): Record<string, string> {
    return this.cookies.size === 0 ? {} : { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') }
  }
}

/** An emulated tenant whose app registration signs people in (client id and secret known to the test). */
export async function signInTenant(emulator: EmulatorServer, clientId: string, secret: string, permissions?: string[]) {
  const tenantId = randomUUID()
  const created = await control<{ tenant_id: string }>(emulator, 'POST', '/tenants', {
    seed: 'signin',
    policies: 5,
    client_id: clientId,
    client_secret: secret,
    tenant_id: tenantId,
    ...(permissions ? { permissions } : {}),
  })
  if (created.status !== 201) throw new Error(JSON.stringify(created.body))
  const group = async (name: string, extra: Record<string, unknown> = {}) =>
    (await control<{ id: string }>(emulator, 'POST', `/tenants/${tenantId}/groups`, { name, ...extra })).body.id
  const user = async (name: string, extra: Record<string, unknown> = {}) => {
    const upn = `${name.toLowerCase().replace(/\W/g, '')}.${randomUUID().slice(0, 6)}@contoso.example`
    const made = await control<{ id: string }>(emulator, 'POST', `/tenants/${tenantId}/users`, {
      name,
      user_principal_name: upn,
      ...extra,
    })
    if (made.status !== 201) throw new Error(JSON.stringify(made.body))
    return { id: made.body.id, upn, password: typeof extra.password === 'string' ? extra.password : undefined }
  }
  const patchUser = (id: string, body: Record<string, unknown>) =>
    control(emulator, 'PATCH', `/tenants/${tenantId}/users/${id}`, body)
  return { tenantId, group, user, patchUser }
}

export const decodeJwt = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>
