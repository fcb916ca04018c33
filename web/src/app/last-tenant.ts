const KEY = 'tenantatlas:last-tenant'

export function lastTenant(): string | null {
  try {
    return window.localStorage.getItem(KEY)
  } catch {
    return null
  }
}

export function rememberTenant(tenantId: string) {
  try {
    window.localStorage.setItem(KEY, tenantId)
  } catch {
    // Private mode or storage disabled: the console works without it.
  }
}
