import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startEmulator, type EmulatorServer } from '../../src/emulator/server.ts'
import { createOidcClient, type OidcClient } from '../../src/modules/entra/oidc-client.ts'
import { control } from '../graph/emulator-helpers.ts'
import { EmulatedBrowser, signInTenant } from './entra-helpers.ts'

// The emulator's OpenID provider, driven by the relying party TenantAtlas ships (openid-client) over HTTP.

let emulator: EmulatorServer
const CLIENT_ID = '7a3c1f52-0000-4000-8000-00000000c11e'
const SECRET = 'emulated-app-secret'
const REDIRECT = 'http://localhost:3000/api/auth/oidc/callback'
let tenant: Awaited<ReturnType<typeof signInTenant>>
let client: OidcClient

beforeAll(async () => {
  emulator = await startEmulator()
  tenant = await signInTenant(emulator, CLIENT_ID, SECRET)
  client = createOidcClient(
    {
      clientId: CLIENT_ID,
      clientSecret: SECRET,
      tenantIds: [tenant.tenantId],
      cloud: 'emulator',
      roleCheckMinutes: 60,
      stepUpMaxAgeMinutes: 15,
      stepUpAcrs: undefined,
    },
    emulator.url,
  )
})
afterAll(() => emulator.close())
afterEach(async () => {
  await control(emulator, 'PUT', '/oidc', {})
})

async function signIn(user: { upn: string; password?: string }, browser = new EmulatedBrowser(), options = {}) {
  const { url, flow } = await client.start(REDIRECT, options)
  const callback = await browser.authorize(url, user)
  return { answer: await client.finish(callback, flow), browser, callback, flow }
}

describe('the emulator as an OpenID provider', () => {
  it('signs a user in with code + PKCE: tid, oid, name, username, auth_time, transitive groups, app roles of user and direct groups', async () => {
    const outer = await tenant.group('Intune admins', { app_roles: ['TenantAtlas.Admin'] })
    const inner = await tenant.group('Helpdesk', { member_of: [outer] })
    const alice = await tenant.user('Alice', { groups: [inner], app_roles: ['TenantAtlas.Reader'], password: 'pw-1' })
    const { answer } = await signIn(alice)
    expect(answer.claims).toMatchObject({
      tid: tenant.tenantId,
      oid: alice.id,
      name: 'Alice',
      username: alice.upn,
      appRoles: ['TenantAtlas.Reader'], // the outer group's role does not pass through nesting
    })
    expect(new Set(answer.claims.groups)).toEqual(new Set([inner, outer]))
    expect(Date.now() - answer.claims.authTime!.getTime()).toBeLessThan(120_000)
    expect(answer.refreshToken).toBeTruthy()
    const direct = await tenant.user('Dora', { groups: [outer] })
    expect((await signIn(direct)).answer.claims.appRoles).toEqual(['TenantAtlas.Admin'])
  })

  it('refuses a wrong password on its page, and answers the code only once', async () => {
    const bob = await tenant.user('Bob', { password: 'right' })
    await expect(signIn({ upn: bob.upn, password: 'wrong' })).rejects.toThrow(/sign-in page answered 200/)
    const { callback, flow } = await signIn(bob)
    await expect(client.finish(callback, flow)).rejects.toThrow(/invalid_grant: AADSTS70008/)
  })

  it('single sign-on skips the page; prompt=login and max_age beyond the session show it again', async () => {
    const carol = await tenant.user('Carol')
    const { browser } = await signIn(carol)
    expect(browser.sawSignInPage).toBe(true)
    await signIn(carol, browser)
    expect(browser.sawSignInPage).toBe(false)
    // auth_time is in whole seconds: a max_age of 0 needs a sign-in now.
    const fresh = await signIn(carol, browser, { maxAge: 0 })
    expect(browser.sawSignInPage).toBe(true)
    expect(fresh.answer.claims.authTime).not.toBeNull()
  })

  it('dates a sign-in back by auth_age_seconds, and a max_age shorter than that asks for the page again', async () => {
    const gil = await tenant.user('Gil')
    await control(emulator, 'PUT', '/oidc', { auth_age_seconds: 3600 })
    const { answer, browser } = await signIn(gil)
    const age = Date.now() - answer.claims.authTime!.getTime()
    expect(age).toBeGreaterThanOrEqual(3599_000)
    await control(emulator, 'PUT', '/oidc', {})
    const again = await signIn(gil, browser, { maxAge: 900 })
    expect(browser.sawSignInPage).toBe(true)
    expect(again.answer.claims.authTime!.getTime()).toBeGreaterThan(answer.claims.authTime!.getTime() + 3000_000)
    expect((await control(emulator, 'PUT', '/oidc', { auth_age_seconds: -1 })).status).toBe(400)
  })

  it('puts the requested authentication context in acrs', async () => {
    const dan = await tenant.user('Dan')
    const { answer } = await signIn(dan, new EmulatedBrowser(), { acrs: 'c1' })
    expect(answer.claims.acrs).toEqual(['c1'])
  })

  it('replaces groups with the overage claim above the limit', async () => {
    const groups = [await tenant.group('G1'), await tenant.group('G2'), await tenant.group('G3')]
    const eve = await tenant.user('Eve', { groups })
    await control(emulator, 'PUT', '/oidc', { groups_limit: 2 })
    expect((await signIn(eve)).answer.claims.groups).toBe('overage')
  })

  it('refreshes claims as they are now, and refuses a disabled user', async () => {
    const g = await tenant.group('Refreshers')
    const fay = await tenant.user('Fay', { groups: [g] })
    const { answer } = await signIn(fay)
    await tenant.patchUser(fay.id, { groups: [] })
    const again = await client.refresh(answer.refreshToken!)
    expect(again.claims.groups).toEqual([])
    await tenant.patchUser(fay.id, { account_enabled: false })
    await expect(client.refresh(again.refreshToken!)).rejects.toThrow(/disabled/)
  })

  it('the client refuses a token with a wrong issuer, audience or nonce, and a wrong state', async () => {
    const gus = await tenant.user('Gus')
    for (const fault of ['wrong_issuer', 'wrong_audience', 'wrong_nonce'] as const) {
      await control(emulator, 'PUT', '/oidc', { [fault]: true })
      await expect(signIn(gus), fault).rejects.toThrow(/issuer|another app|nonce/)
    }
    await control(emulator, 'PUT', '/oidc', {})
    const { url, flow } = await client.start(REDIRECT)
    const callback = await new EmulatedBrowser().authorize(url, gus)
    await expect(client.finish(callback, { ...flow, state: 'another' })).rejects.toThrow(/state mismatch/)
  })

  it('checks the PKCE verifier', async () => {
    const hal = await tenant.user('Hal')
    const { url, flow } = await client.start(REDIRECT)
    const callback = await new EmulatedBrowser().authorize(url, hal)
    await expect(client.finish(callback, { ...flow, verifier: 'x'.repeat(43) })).rejects.toThrow(/code_verifier/)
  })

  it('rotates its signing key: the client fetches the new key set and keeps working', async () => {
    const ivy = await tenant.user('Ivy')
    await signIn(ivy)
    const before = (await control<{ signing_kid: string }>(emulator, 'GET', '/oidc')).body.signing_kid
    const rotated = await control<{ kid: string; published: string[] }>(emulator, 'POST', '/oidc/keys/rotate', {
      retire_previous: true,
    })
    expect(rotated.body.kid).not.toBe(before)
    expect(rotated.body.published).toEqual([rotated.body.kid])
    const keys = (await (await fetch(`${emulator.url}/${tenant.tenantId}/discovery/v2.0/keys`)).json()) as {
      keys: { kid: string; alg: string }[]
    }
    expect(keys.keys).toEqual([expect.objectContaining({ kid: rotated.body.kid, alg: 'RS256' })])
    expect((await signIn(ivy)).answer.claims.oid).toBe(ivy.id)
  })
})
