import { writeOrCheck } from './generated-file.ts'
import path from 'node:path'
import { buildApp } from '../src/http/app.ts'
import { loadConfig } from '../src/lib/config.ts'
import { createLogger } from '../src/lib/logger.ts'

/**
 * `npm run api:types`: the console's API types, generated from the OpenAPI document the server
 * serves at /api/openapi.json (itself generated from the routes' zod schemas), into
 * web/src/lib/api-types.ts. `npm run api:types -- --check` exits 1 when that file is stale (CI).
 *
 * Our own small JSON Schema → TypeScript printer instead of openapi-typescript: its current major
 * requires TypeScript 5 (we are on 6), and the schemas zod emits use a small, known subset.
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
}
type Operation = {
  requestBody?: { content?: Record<string, { schema: Schema }> }
  responses?: Record<string, { content?: Record<string, { schema: Schema }> }>
}
type Document = { paths: Record<string, Record<string, Operation>>; components: { schemas: Record<string, Schema> } }

export const API_TYPES_FILE = path.resolve(import.meta.dirname, '../web/src/lib/api-types.ts')
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/

/** The app with stand-in dependencies: its routes register without touching them, enough to describe the API. */
export async function describedApp() {
  const app = await buildApp({
    handle: { db: {} } as never,
    config: loadConfig({ DATA_DIR: '/nonexistent' }),
    secrets: {} as never,
    logger: createLogger('silent'),
    engine: {} as never,
    hub: {} as never,
  })
  await app.ready()
  return app
}

async function openApiDocument(): Promise<Document> {
  const app = await describedApp()
  const document = app.swagger() as unknown as Document
  await app.close()
  return document
}

const wrap = (type: string) => (/[|&]/.test(type) ? `(${type})` : type)

function print(schema: Schema, indent: string): string {
  if (schema.$ref) return `Schemas[${JSON.stringify(schema.$ref.split('/').at(-1))}]`
  const union = schema.anyOf ?? schema.oneOf
  if (union) return [...new Set(union.map((s) => print(s, indent)))].join(' | ')
  if (schema.allOf) return schema.allOf.map((s) => wrap(print(s, indent))).join(' & ')
  if (schema.enum) return schema.enum.map((v) => JSON.stringify(v)).join(' | ')
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  if (Array.isArray(schema.type)) return schema.type.map((type) => print({ ...schema, type }, indent)).join(' | ')
  switch (schema.type) {
    case 'string':
      return 'string'
    case 'number':
    case 'integer':
      return 'number'
    case 'boolean':
      return 'boolean'
    case 'null':
      return 'null'
    case 'array':
      return `${wrap(schema.items ? print(schema.items, indent) : 'unknown')}[]`
    case 'object':
      return printObject(schema, indent)
    default:
      return schema.properties ? printObject(schema, indent) : 'unknown'
  }
}

function printObject(schema: Schema, indent: string): string {
  const extra =
    typeof schema.additionalProperties === 'object'
      ? `Record<string, ${print(schema.additionalProperties, indent)}>`
      : null
  const entries = Object.entries(schema.properties ?? {})
  if (entries.length === 0) return extra ?? 'Record<string, never>'
  const inner = `${indent}  `
  const required = new Set(schema.required ?? [])
  const lines = entries.map(([key, value]) => {
    const doc = value.description ? `${inner}/** ${value.description.replaceAll('*/', '* /')} */\n` : ''
    return `${doc}${inner}${IDENTIFIER.test(key) ? key : JSON.stringify(key)}${required.has(key) ? '' : '?'}: ${print(value, inner)}`
  })
  const object = `{\n${lines.join('\n')}\n${indent}}`
  return extra ? `${object} & ${extra}` : object
}

const jsonOf = (entry: { content?: Record<string, { schema: Schema }> } | undefined) =>
  entry?.content?.['application/json']?.schema

export function render(document: Document): string {
  const schemas = Object.entries(document.components.schemas).sort(([a], [b]) => a.localeCompare(b))
  const responses: string[] = []
  const bodies: string[] = []
  for (const [url, methods] of Object.entries(document.paths).sort(([a], [b]) => a.localeCompare(b))) {
    for (const [method, operation] of Object.entries(methods)) {
      const key = JSON.stringify(`${method.toUpperCase()} ${url}`)
      const success = Object.entries(operation.responses ?? {}).find(([status]) => status.startsWith('2'))
      const response = success ? jsonOf(success[1]) : undefined
      responses.push(`  ${key}: ${response ? print(response, '  ') : 'null'}`)
      const body = jsonOf(operation.requestBody)
      if (body) bodies.push(`  ${key}: ${print(body, '  ')}`)
    }
  }
  return [
    "// Generated by `npm run api:types` from the server's OpenAPI document (GET /api/openapi.json). Do not edit:",
    '// change the route schemas and run it again; `npm run api:types -- --check` (and test/api-types.test.ts) fail when this file is stale.',
    '',
    'export type Schemas = {',
    // zod documents a schema twice (as input and output); where both read the same, the input is an alias.
    ...schemas.map(([name, schema]) => {
      const printed = print(schema, '  ')
      const output = name.endsWith('Input') ? document.components.schemas[name.slice(0, -'Input'.length)] : undefined
      return `  ${name}: ${output && print(output, '  ') === printed ? `Schemas[${JSON.stringify(name.slice(0, -'Input'.length))}]` : printed}`
    }),
    '}',
    '',
    '/** The success response of each operation, keyed by "METHOD /path". */',
    'export type Responses = {',
    ...responses,
    '}',
    '',
    '/** The JSON request body of each operation that takes one. */',
    'export type Bodies = {',
    ...bodies,
    '}',
    '',
  ].join('\n')
}

/** The file's content as the server's routes describe the API now. */
export const generateApiTypes = async () => render(await openApiDocument())

async function main() {
  writeOrCheck(API_TYPES_FILE, await generateApiTypes(), 'npm run api:types')
}

if (import.meta.main) await main()
