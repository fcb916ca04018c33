import { randomUUID } from 'node:crypto'
import type { Database } from '../src/db/engine.ts'
import { users, type Role } from '../src/db/schema.ts'
import { hashPassword, type SecretBox } from '../src/lib/crypto.ts'
import { uuidv7 } from '../src/lib/ids.ts'
import { createApiToken } from '../src/modules/access/api-tokens.ts'
import { addTenant } from '../src/modules/tenants/add-tenant.ts'
import { upsertMembership } from '../src/modules/tenants/repository.ts'

export const PASSWORD = 'correct horse battery staple'
let passwordHash: Promise<string> | undefined

/** Test data through the product's own commands where they exist; a fresh tenant for every test. */
export class Factories {
  readonly db: Database
  readonly secrets: SecretBox
  #n = 0

  constructor(db: Database, secrets: SecretBox) {
    this.db = db
    this.secrets = secrets
  }

  async user(overrides: { isAdmin?: boolean; name?: string } = {}) {
    const n = ++this.#n
    const [user] = await this.db
      .insert(users)
      .values({
        id: uuidv7(),
        email: `user${n}-${randomUUID().slice(0, 8)}@example.com`,
        name: overrides.name ?? `User ${n}`,
        passwordHash: await (passwordHash ??= hashPassword(PASSWORD)),
        isAdmin: overrides.isAdmin ?? false,
      })
      .returning()
    return user!
  }

  async token(user: { id: string }) {
    return (await createApiToken(this.db, { kind: 'system' }, user.id, { name: 'test' })).secret
  }

  async userWithToken(overrides: { isAdmin?: boolean } = {}) {
    const user = await this.user(overrides)
    return { user, token: await this.token(user) }
  }

  async tenant(overrides: { name?: string; clientSecret?: string } = {}) {
    return addTenant(
      this.db,
      this.secrets,
      { kind: 'system' },
      {
        name: overrides.name ?? `Tenant ${++this.#n}`,
        entra_tenant_id: randomUUID(),
        client_id: randomUUID(),
        client_secret: overrides.clientSecret ?? `secret-${randomUUID()}`,
        cloud: 'emulator',
      },
    )
  }

  async member(tenantId: string, user: { id: string }, role: Role) {
    await upsertMembership(this.db, tenantId, user.id, role)
  }
}
