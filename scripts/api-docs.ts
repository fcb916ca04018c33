import { writeOrCheck } from './generated-file.ts'
import path from 'node:path'
import { PUBLIC_API_ROUTES, routesOf, type RouteInfo } from '../src/http/app.ts'
import { CAPABILITIES, can, ROLES } from '../src/modules/access/policy.ts'
import { describedApp } from './api-types.ts'

/**
 * `npm run docs:api`: docs/api.md, the HTTP API reference, generated from the OpenAPI document the
 * server serves at /api/openapi.json (itself generated from the routes' zod schemas), plus what
 * the document cannot say: the capability or token scope each route checks. `-- --check` exits 1
 * when the file is stale (CI), so the reference cannot drift from the routes.
 */

type Schema = {
  $ref?: string
  type?: string | string[]
  enum?: unknown[]
  const?: unknown
  anyOf?: Schema[]
  oneOf?: Schema[]
  allOf?: Schema[]
  properties?: Record<string, Schema>
  required?: string[]
  additionalProperties?: Schema | boolean
  items?: Schema
  description?: string
  default?: unknown
  format?: string
}
type Parameter = { name: string; in: string; required?: boolean; description?: string; schema?: Schema }
type Content = { content?: Record<string, { schema?: Schema }> }
type Operation = {
  summary?: string
  description?: string
  tags?: string[]
  parameters?: Parameter[]
  requestBody?: Content & { required?: boolean }
  responses?: Record<string, Content & { description?: string }>
}
export type Document = {
  paths: Record<string, Record<string, Operation>>
  components: { schemas: Record<string, Schema> }
}
/** Per "METHOD /openapi/{path}": who may call it, in words. */
export type Access = Record<string, string>

export const API_DOCS_FILE = path.resolve(import.meta.dirname, '../docs/api.md')

/** What each error status means, with the codes it carries (src/http/errors.ts, src/lib/errors.ts). */
const STATUS_MEANING: Record<string, string> = {
  '400': 'malformed request: `invalid_json`, `bad_url`, `bad_request`',
  '401': 'not signed in, or the token is expired or revoked: `unauthenticated`, `invalid_credentials` (sign-in)',
  '403':
    'signed in but not allowed by role or token scope: `forbidden`; a cookie request from another origin: ' +
    '`csrf_rejected`',
  '404': "not found, or outside the caller's tenants (never a 403, so existence is not revealed): `not_found`",
  '409': "conflict with the current state: `conflict`, or a route's own code such as `plan_stale`",
  '413': 'body too large: `payload_too_large`',
  '414': 'a path parameter is too long: `uri_too_long`',
  '415': 'a body that is not JSON where JSON is expected: `unsupported_media_type`',
  '422':
    "well-formed but invalid: `validation_failed` with `details: {in, fields}` naming each field, or a route's " +
    'own code such as `invalid_backup_file`',
  '429': 'too many failed sign-ins: `too_many_attempts`',
  '500': 'a fault on the server: `internal_error` with the request id (`x-request-id`), never a stack trace',
  '503': 'not ready (`/readyz`)',
}

const openApiPath = (url: string) => url.replace(/:(\w+)/g, '{$1}')

/** The capability a route checks: declared in its config, or the literal its handler passes to `tenantAccess`. */
function accessOf(route: RouteInfo): string {
  if (PUBLIC_API_ROUTES.has(route.url) || !route.url.startsWith('/api/')) return 'public (no credentials)'
  const inHandler = /tenantAccess\([^;]*?['"]([a-z_]+\.[a-z_]+)['"]/.exec(String(route.handler))?.[1]
  const capability = route.capability ?? inHandler
  if (capability) return `capability \`${capability}\` in the tenant`
  if (route.scope === 'workspace.admin') return 'workspace admins'
  if (route.scope) return `signed in; a token needs scope \`${route.scope}\``
  if (route.url.startsWith('/api/tenants/:tenantId')) return 'any member of the tenant'
  return 'signed in'
}

const refName = (ref: string) => ref.split('/').at(-1)!

/** A one-line TypeScript-like shape, `depth` levels of objects deep; named schemas by name. */
export function shape(schema: Schema | undefined, depth = 2): string {
  if (!schema) return 'unknown'
  if (schema.$ref) return refName(schema.$ref).replace(/Input$/, '')
  const union = schema.anyOf ?? schema.oneOf
  if (union) return [...new Set(union.map((s) => shape(s, depth)))].join(' | ')
  if (schema.allOf) return schema.allOf.map((s) => shape(s, depth)).join(' & ')
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ')
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  if (Array.isArray(schema.type)) return schema.type.map((type) => shape({ ...schema, type }, depth)).join(' | ')
  if (schema.type === 'array') {
    const inner = shape(schema.items, depth)
    return /[ |]/.test(inner) && !inner.startsWith('{') ? `(${inner})[]` : `${inner}[]`
  }
  if (schema.type === 'integer' || schema.type === 'number') return 'number'
  if (schema.type === 'object' || schema.properties) {
    const entries = Object.entries(schema.properties ?? {})
    const extra = schema.additionalProperties
    if (entries.length === 0) return typeof extra === 'object' ? `{[key]: ${shape(extra, depth)}}` : '{}'
    if (depth === 0) return '{…}'
    const required = new Set(schema.required ?? [])
    const fields = entries.map(([key, value]) => `${key}${required.has(key) ? '' : '?'}: ${shape(value, depth - 1)}`)
    return `{${fields.join(', ')}}`
  }
  return schema.type ?? 'unknown'
}

const cell = (text: string) => text.replaceAll('|', '\\|').replaceAll('\n', ' ')

function parameterLines(parameters: Parameter[], where: string, title: string): string[] {
  const list = parameters.filter((p) => p.in === where)
  if (list.length === 0) return []
  return [
    '',
    `| ${title} | type | required | notes |`,
    '|---|---|---|---|',
    ...list.map((p) => {
      const byDefault = p.schema?.default !== undefined ? `default \`${JSON.stringify(p.schema.default)}\`` : undefined
      const notes = cell([p.description, byDefault].filter(Boolean).join('; '))
      return `| \`${p.name}\` | \`${cell(shape(p.schema))}\` | ${p.required ? 'yes' : 'no'} | ${notes} |`
    }),
  ]
}

function bodyLines(content: Content['content']): string[] {
  const entries = Object.entries(content ?? {})
  return entries.map(([type, { schema }]) => (schema ? `\`${type}\`: \`${shape(schema)}\`` : `\`${type}\``))
}

function operationSection(method: string, url: string, operation: Operation, access: string): string[] {
  const lines = [`### \`${method.toUpperCase()} ${url}\``, '']
  if (operation.summary) lines.push(operation.summary, '')
  if (operation.description) lines.push(operation.description, '')
  lines.push(`Who: ${access}.`)
  lines.push(...parameterLines(operation.parameters ?? [], 'path', 'path parameter'))
  lines.push(...parameterLines(operation.parameters ?? [], 'query', 'query parameter'))
  const body = bodyLines(operation.requestBody?.content)
  const optional = operation.requestBody?.required ? '' : ' (optional)'
  if (body.length > 0) lines.push('', `Body${optional}: ${body.join('; or ')}`)
  const statuses = Object.entries(operation.responses ?? {})
  const successes = statuses.filter(([status]) => !/^[45]/.test(status) || status === '503')
  lines.push('', 'Responses:', '')
  for (const [status, response] of successes) {
    const content = bodyLines(response.content)
    lines.push(`- ${status}${content.length > 0 ? ` ${content.join('; or ')}` : ' (no body)'}`)
  }
  const errors = statuses.map(([status]) => status).filter((status) => /^[45]/.test(status) && status !== '503')
  if (errors.length > 0) lines.push(`- errors: ${errors.join(', ')} (the error envelope)`)
  lines.push('')
  return lines
}

function schemaSection(document: Document): string[] {
  const note = 'The named shapes above, one level deep (the OpenAPI document has every constraint).'
  const lines = ['## Schemas', '', note, '']
  // zod names a schema twice (as input and as output); the output's name stands for both.
  const schemas = document.components.schemas
  const names = Object.keys(schemas).filter((name) => !name.endsWith('Input') || !schemas[name.slice(0, -5)])
  for (const name of names.sort((a, b) => a.localeCompare(b))) {
    const schema = schemas[name]!
    lines.push(`### ${name.replace(/Input$/, '')}`, '')
    const entries = Object.entries(schema.properties ?? {})
    if (entries.length === 0) {
      lines.push(`\`${cell(shape(schema, 1))}\``, '')
      continue
    }
    const required = new Set(schema.required ?? [])
    lines.push('| field | type | notes |', '|---|---|---|')
    for (const [key, value] of entries) {
      const field = `${key}${required.has(key) ? '' : '?'}`
      lines.push(`| \`${field}\` | \`${cell(shape(value, 1))}\` | ${cell(value.description ?? '')} |`)
    }
    lines.push('')
  }
  return lines
}

const INTRO = [
  '# HTTP API reference',
  '',
  '<!-- Generated by `npm run docs:api` from the OpenAPI document (GET /api/openapi.json). Do not edit:',
  '     change the route schemas and run it again; `npm run docs:api -- --check` fails CI when this file is stale. -->',
  '',
  "JSON over HTTP. A running server serves this API's OpenAPI 3.1 document at `/api/openapi.json` and",
  'renders it at `/api/docs`; this file is the same document as text, with who may call each route.',
  '',
  '- **Authentication**: the browser session cookie (`ta_session`, set by `POST /api/auth/sign-in`;',
  "  mutating requests must come from the console's own origin or `PUBLIC_URL`), or",
  "  `Authorization: Bearer <personal API token>` (`POST /api/tokens`, the console's Account page or",
  '  `tenantatlas token create`). A token has a scope (`full`, `read` or a list of capabilities) and never',
  '  does more than its owner may at the time of use.',
  '- **Who**: a tenant route (`/api/tenants/{tenantId}/…`) needs the named capability in that tenant',
  "  (the roles below; `GET /api/me` lists the caller's capabilities per tenant). A tenant the caller does",
  '  not belong to is a 404, a capability they lack a 403, both decided before the body is read.',
  '- **Errors** are `{"error": {"code", "message", "details"?}}`, never a stack trace:',
  '',
  ...Object.entries(STATUS_MEANING).map(([status, meaning]) => `  - ${status}: ${meaning}.`),
  '',
  '- **Lists** are `{"data": [...], "next_cursor": "…" | null}`: pass `cursor=<next_cursor>` for the next',
  '  page (keyset pagination).',
  '- **Runs**: a route that starts work answers 202 with the operation run; follow it at',
  '  `GET /api/tenants/{tenantId}/operation-runs/{runId}` or live on `GET /api/tenants/{tenantId}/events`.',
  '',
  'Capabilities by role (`src/modules/access/policy.ts`; an operator cancels and re-runs only their own runs):',
  '',
  `| capability | ${ROLES.join(' | ')} |`,
  `|---|${ROLES.map(() => '---').join('|')}|`,
  ...CAPABILITIES.map((capability) => {
    return `| \`${capability}\` | ${ROLES.map((role) => (can(role, capability) ? '✓' : '')).join(' | ')} |`
  }),
  '',
]

/** docs/api.md for `document`, with `access` naming who may call each operation. */
export function renderApiDocs(document: Document, access: Access): string {
  const byTag = new Map<string, string[]>()
  const operations = Object.entries(document.paths).flatMap(([url, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ url, method, operation })),
  )
  for (const { url, method, operation } of operations) {
    const tag = operation.tags?.[0] ?? 'other'
    const key = `${method.toUpperCase()} ${url}`
    const section = operationSection(method, url, operation, access[key] ?? 'signed in')
    byTag.set(tag, [...(byTag.get(tag) ?? []), ...section])
  }
  const index = [...byTag.keys()].map((tag) => `[${tag}](#${tag})`).join(' · ')
  return [
    ...INTRO,
    `Sections: ${index} · [schemas](#schemas)`,
    '',
    ...[...byTag].flatMap(([tag, lines]) => [`## ${tag}`, '', ...lines]),
    ...schemaSection(document),
  ]
    .join('\n')
    .replace(/\n+$/, '\n')
}

/** The file's content as the server's routes describe the API now. */
export async function generateApiDocs(): Promise<string> {
  const app = await describedApp()
  const document = app.swagger() as unknown as Document
  const access: Access = {}
  for (const route of routesOf(app)) access[`${route.method} ${openApiPath(route.url)}`] = accessOf(route)
  await app.close()
  return renderApiDocs(document, access)
}

async function main() {
  writeOrCheck(API_DOCS_FILE, await generateApiDocs(), 'npm run docs:api')
}

if (import.meta.main) await main()
