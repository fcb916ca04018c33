import { buildApp } from '../src/http/app.ts'
import { loadConfig } from '../src/lib/config.ts'
import { createLogger } from '../src/lib/logger.ts'
import { PASSWORD } from './factories.ts'
import type { TestContext } from './harness.ts'

/** Signs in through an app that trusts its proxy, with X-Forwarded-Proto: https; returns Set-Cookie. */
export async function signInOverHttps(ctx: TestContext, email: string) {
  const app = await buildApp({
    handle: ctx.handle,
    config: loadConfig({ DATA_DIR: '/nonexistent', TRUST_PROXY: 'true' }),
    secrets: ctx.secrets,
    logger: createLogger('silent'),
    engine: ctx.engine,
    hub: ctx.operations.hub,
  })
  try {
    const response = await app.inject({
      method: 'POST',
      url: '/api/auth/sign-in',
      payload: { email, password: PASSWORD },
      remoteAddress: '10.9.9.9',
      headers: { 'x-forwarded-proto': 'https', 'x-forwarded-for': '10.9.9.9' },
    })
    return [response.headers['set-cookie']].flat().join('\n')
  } finally {
    await app.close()
  }
}
