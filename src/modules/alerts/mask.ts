/** A URL as the API shows it: scheme and host, the path hidden (Teams and webhook URLs carry their credentials there). */
export function maskUrl(url: string): string {
  const parsed = new URL(url)
  return `${parsed.protocol}//${parsed.host}/…`
}

/** An address list as the API shows it: each local part shortened to its first letter. */
export const maskAddresses = (to: readonly string[]) =>
  to.map((address) => address.replace(/^(.)[^@]*@/, '$1…@')).join(', ')
