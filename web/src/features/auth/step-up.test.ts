import { describe, expect, it } from 'vitest'
import { keepForResume, stepUpUrl, takePending } from './step-up.ts'

class MemoryStorage implements Storage {
  #items = new Map<string, string>()
  get length() {
    return this.#items.size
  }
  clear() {
    this.#items.clear()
  }
  getItem(key: string) {
    return this.#items.get(key) ?? null
  }
  key(index: number) {
    return [...this.#items.keys()][index] ?? null
  }
  removeItem(key: string) {
    this.#items.delete(key)
  }
  setItem(key: string, value: string) {
    this.#items.set(key, value)
  }
}

describe('step-up resume', () => {
  it('sends a Microsoft session through the OIDC start with step_up, a password session to the sign-in page', () => {
    expect(stepUpUrl({ sign_in: 'microsoft' }, '/t/a/restore/p?x=1')).toBe(
      '/api/auth/oidc/start?step_up=true&return_to=%2Ft%2Fa%2Frestore%2Fp%3Fx%3D1',
    )
    expect(stepUpUrl({ sign_in: 'password' }, '/t/a/backups')).toBe('/login?next=%2Ft%2Fa%2Fbackups&step_up=1')
  })

  it('resumes the kept action once, on its own page, within ten minutes', () => {
    const storage = new MemoryStorage()
    const action = { method: 'POST' as const, path: '/api/tenants/a/restore-plans/p/execute', page: '/t/a/restore/p' }
    keepForResume(action, storage)
    expect(takePending('/t/a/other', storage)).toBeNull()
    keepForResume(action, storage)
    expect(takePending('/t/a/restore/p', storage)).toMatchObject(action)
    expect(takePending('/t/a/restore/p', storage)).toBeNull()
    keepForResume(action, storage)
    expect(takePending('/t/a/restore/p', storage, Date.now() + 11 * 60_000)).toBeNull()
  })
})
