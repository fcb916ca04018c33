/**
 * Searching tenants wherever they are chosen (the tenant picker, compare's sides): a tenant matches by
 * its name or by the name of a tenant group it is in, case ignored (issue 27: tenant groups usable
 * wherever tenants are chosen).
 */
export function groupNamesByTenant(groups: readonly { name: string; tenant_ids: readonly string[] }[]) {
  const byTenant = new Map<string, string[]>()
  for (const g of groups) for (const id of g.tenant_ids) byTenant.set(id, [...(byTenant.get(id) ?? []), g.name])
  return byTenant
}

export function matchesTenant(
  option: { value: string; label: string },
  search: string,
  groupsOf: ReadonlyMap<string, readonly string[]>,
) {
  const q = search.trim().toLowerCase()
  if (!q) return true
  return (
    option.label.toLowerCase().includes(q) ||
    (groupsOf.get(option.value) ?? []).some((g) => g.toLowerCase().includes(q))
  )
}
