/**
 * OData query options as Microsoft Graph parses them, for the emulator.
 *
 * - Option names are case-insensitive, and on the beta endpoint the `$` prefix is optional
 *   (https://learn.microsoft.com/graph/query-parameters: "On the beta endpoint, the $ prefix is
 *   optional"); clients that glue `?` onto a query that already has one (`??$expand=…`) are
 *   tolerated.
 * - `$filter` is a real expression: `eq ne gt ge lt le`, `and or not`, parentheses, `isof`,
 *   `startswith`/`endswith`/`contains`, property paths with type casts
 *   (`microsoft.graph.managedApp/appAvailability`: null on objects of other types).
 * - `$expand` takes a comma list of navigation properties, each with nested options in
 *   parentheses (`scheduledActionsForRule($expand=scheduledActionConfigurations)`).
 * - `$select` matches property names case-insensitively.
 */

export class ODataError extends Error {}

const SYSTEM_OPTIONS = new Set([
  'filter',
  'top',
  'skip',
  'select',
  'expand',
  'skiptoken',
  'orderby',
  'count',
  'search',
  'format',
])

/** The system query options of a query string, keyed by lower-case name without `$`. */
export function queryOptions(search: string, version: string): Map<string, string> {
  const options = new Map<string, string>()
  for (const part of search.replace(/^\?+/, '').split('&')) {
    if (part === '') continue
    const eq = part.indexOf('=')
    const rawName = eq < 0 ? part : part.slice(0, eq)
    const rawValue = eq < 0 ? '' : part.slice(eq + 1)
    let name: string
    let value: string
    try {
      name = decodeURIComponent(rawName.replaceAll('+', ' ')).replace(/^\?+/, '').trim().toLowerCase()
      value = decodeURIComponent(rawValue.replaceAll('+', ' '))
    } catch {
      throw new ODataError(`The query string is not correctly percent-encoded: '${part.slice(0, 80)}'`)
    }
    const prefixed = name.startsWith('$')
    const bare = prefixed ? name.slice(1) : name
    // Without `$`, only beta reads a system option; elsewhere it is a custom parameter and ignored.
    if (!SYSTEM_OPTIONS.has(bare) || (!prefixed && version !== 'beta')) continue
    if (options.has(bare))
      throw new ODataError(
        `Query option '$${bare}' was specified more than once, but it must be specified at most once.`,
      )
    options.set(bare, value)
  }
  return options
}

/** Splits at top-level separators, leaving parentheses and quoted strings intact. */
function splitTopLevel(text: string, separator: string): string[] {
  const parts: string[] = []
  let depth = 0
  let quoted = false
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === "'") quoted = !quoted
    else if (!quoted && c === '(') depth++
    else if (!quoted && c === ')') depth--
    else if (!quoted && depth === 0 && c === separator) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
    if (depth < 0) throw new ODataError(`Unbalanced parentheses in '${text}'`)
  }
  if (depth !== 0 || quoted) throw new ODataError(`Unbalanced parentheses or quotes in '${text}'`)
  parts.push(text.slice(start))
  return parts.map((p) => p.trim()).filter((p) => p !== '')
}

export type ExpandItem = { name: string; options: Map<string, string> }

export function parseExpand(value: string | undefined): ExpandItem[] {
  if (value === undefined) return []
  return splitTopLevel(value, ',').map((item) => {
    const open = item.indexOf('(')
    if (open < 0) {
      if (!/^[\w.*]+$/.test(item)) throw new ODataError(`Invalid $expand item '${item}'`)
      return { name: item, options: new Map() }
    }
    if (!item.endsWith(')')) throw new ODataError(`Invalid $expand item '${item}'`)
    const options = new Map<string, string>()
    for (const option of splitTopLevel(item.slice(open + 1, -1), ';')) {
      const eq = option.indexOf('=')
      if (eq < 0) throw new ODataError(`Invalid nested query option '${option}' in $expand`)
      options.set(option.slice(0, eq).trim().replace(/^\$/, '').toLowerCase(), option.slice(eq + 1).trim())
    }
    return { name: item.slice(0, open).trim(), options }
  })
}

export function parseSelect(value: string | undefined): string[] | null {
  return value === undefined
    ? null
    : value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
}

/** A property of `body` by name, case-insensitively (Graph's `$select=displayname` works). */
export function propertyName(body: Record<string, unknown>, name: string): string | undefined {
  if (name in body) return name
  const lower = name.toLowerCase()
  return Object.keys(body).find((k) => k.toLowerCase() === lower)
}

// ---------------------------------------------------------------------------------------------
// $filter

type Token = { kind: 'string' | 'number' | 'word' | 'punct'; value: string }

const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})/i

function tokenize(text: string): Token[] {
  const tokens: Token[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (/\s/.test(c)) {
      i++
    } else if (c === "'") {
      let value = ''
      i++
      for (;;) {
        if (i >= text.length) throw new ODataError('Unterminated string literal')
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'"
            i += 2
            continue
          }
          i++
          break
        }
        value += text[i++]
      }
      tokens.push({ kind: 'string', value })
    } else if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', value: c })
      i++
    } else if (DATETIME.test(text.slice(i))) {
      // A DateTimeOffset literal (unquoted, as OData writes it): compared as Graph's own ISO strings.
      const m = DATETIME.exec(text.slice(i))!
      const ms = Date.parse(m[0])
      if (Number.isNaN(ms)) throw new ODataError(`Invalid DateTimeOffset literal '${m[0]}'`)
      tokens.push({ kind: 'string', value: new Date(ms).toISOString() })
      i += m[0].length
    } else if (/[-\d]/.test(c) && /^-?\d/.test(text.slice(i))) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i))!
      // A GUID literal starts with digits too: read it as a word.
      const guid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i.exec(text.slice(i))
      if (guid) {
        tokens.push({ kind: 'string', value: guid[0] })
        i += guid[0].length
      } else {
        tokens.push({ kind: 'number', value: m[0] })
        i += m[0].length
      }
    } else if (/[\w.@/]/.test(c)) {
      const m = /^[\w.@/]+/.exec(text.slice(i))!
      tokens.push({ kind: 'word', value: m[0] })
      i += m[0].length
    } else {
      throw new ODataError(`Syntax error at position ${i} in '${text}'`)
    }
  }
  return tokens
}

export type FilterNode =
  | { op: 'or' | 'and'; left: FilterNode; right: FilterNode }
  | { op: 'not'; operand: FilterNode }
  | { op: 'cmp'; cmp: string; left: FilterNode; right: FilterNode }
  | { op: 'literal'; value: unknown }
  | { op: 'path'; segments: string[] }
  | { op: 'call'; name: string; args: FilterNode[] }

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le'])
const FUNCTIONS = new Set(['isof', 'startswith', 'endswith', 'contains', 'tolower', 'toupper'])

export function parseFilter(text: string): FilterNode {
  const tokens = tokenize(text)
  let pos = 0
  const peekWord = () => (tokens[pos]?.kind === 'word' ? tokens[pos]!.value.toLowerCase() : undefined)
  const expect = (value: string) => {
    if (tokens[pos]?.value !== value) throw new ODataError(`Expected '${value}' at token ${pos + 1} of '${text}'`)
    pos++
  }
  const or = (): FilterNode => {
    let left = and()
    while (peekWord() === 'or') {
      pos++
      left = { op: 'or', left, right: and() }
    }
    return left
  }
  const and = (): FilterNode => {
    let left = unary()
    while (peekWord() === 'and') {
      pos++
      left = { op: 'and', left, right: unary() }
    }
    return left
  }
  const unary = (): FilterNode => {
    if (peekWord() === 'not') {
      pos++
      return { op: 'not', operand: unary() }
    }
    const left = primary()
    const cmp = peekWord()
    if (cmp && COMPARISONS.has(cmp)) {
      pos++
      return { op: 'cmp', cmp, left, right: primary() }
    }
    return left
  }
  const primary = (): FilterNode => {
    const token = tokens[pos]
    if (!token) throw new ODataError(`Unexpected end of filter '${text}'`)
    pos++
    if (token.kind === 'punct' && token.value === '(') {
      const inner = or()
      expect(')')
      return inner
    }
    if (token.kind === 'string') return { op: 'literal', value: token.value }
    if (token.kind === 'number') return { op: 'literal', value: Number(token.value) }
    if (token.kind === 'word') {
      const lower = token.value.toLowerCase()
      if (lower === 'null') return { op: 'literal', value: null }
      if (lower === 'true' || lower === 'false') return { op: 'literal', value: lower === 'true' }
      if (tokens[pos]?.value === '(') {
        if (!FUNCTIONS.has(lower)) throw new ODataError(`An unknown function with name '${token.value}' was found.`)
        pos++
        const args: FilterNode[] = []
        if (tokens[pos]?.value !== ')') {
          args.push(or())
          while (tokens[pos]?.value === ',') {
            pos++
            args.push(or())
          }
        }
        expect(')')
        return { op: 'call', name: lower, args }
      }
      return { op: 'path', segments: token.value.split('/') }
    }
    throw new ODataError(`Syntax error: unexpected '${token.value}' in '${text}'`)
  }
  const node = or()
  if (pos < tokens.length) throw new ODataError(`Syntax error: unexpected '${tokens[pos]!.value}' in '${text}'`)
  return node
}

/**
 * Base types of the derived types the emulator serves, for `isof` and casts. A type is of
 * itself and of every type up its chain.
 */
const BASE_TYPE: Record<string, string> = {
  managedIOSStoreApp: 'managedApp',
  managedAndroidStoreApp: 'managedApp',
  managedIOSLobApp: 'managedMobileLobApp',
  managedAndroidLobApp: 'managedMobileLobApp',
  managedMobileLobApp: 'managedApp',
  managedApp: 'mobileApp',
  win32LobApp: 'mobileLobApp',
  macOSLobApp: 'mobileLobApp',
  mobileLobApp: 'mobileApp',
  winGetApp: 'mobileApp',
  iosStoreApp: 'mobileApp',
  androidManagedStoreApp: 'mobileApp',
  officeSuiteApp: 'mobileApp',
  iosManagedAppProtection: 'targetedManagedAppProtection',
  androidManagedAppProtection: 'targetedManagedAppProtection',
  targetedManagedAppProtection: 'managedAppProtection',
  windowsManagedAppProtection: 'managedAppPolicy',
  managedAppProtection: 'managedAppPolicy',
  targetedManagedAppConfiguration: 'managedAppConfiguration',
  managedAppConfiguration: 'managedAppPolicy',
}

const shortType = (name: string) => name.replace(/^#/, '').replace(/^microsoft\.graph\./i, '')

export function isOfType(body: Record<string, unknown>, typeName: string): boolean {
  const wanted = shortType(typeName).toLowerCase()
  let current: string | undefined = typeof body['@odata.type'] === 'string' ? shortType(body['@odata.type']) : undefined
  while (current) {
    if (current.toLowerCase() === wanted) return true
    current = BASE_TYPE[current]
  }
  return false
}

function resolvePath(body: Record<string, unknown>, segments: string[]): unknown {
  let current: unknown = body
  for (const segment of segments) {
    if (current === null || typeof current !== 'object') return null
    const object = current as Record<string, unknown>
    // A qualified name is a type cast: the value is null on objects of another type.
    if (segment.includes('.')) {
      if (!isOfType(object, segment)) return null
      continue
    }
    const name = propertyName(object, segment)
    current = name === undefined ? null : object[name]
  }
  return current ?? null
}

function compare(cmp: string, a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : v)
  if (cmp === 'eq') return norm(a) === norm(b)
  if (cmp === 'ne') return norm(a) !== norm(b)
  if (a === null || b === null) return false
  const x = a as number | string
  const y = b as number | string
  return cmp === 'gt' ? x > y : cmp === 'ge' ? x >= y : cmp === 'lt' ? x < y : x <= y
}

export function evaluate(node: FilterNode, body: Record<string, unknown>): unknown {
  switch (node.op) {
    case 'or':
      return evaluate(node.left, body) === true || evaluate(node.right, body) === true
    case 'and':
      return evaluate(node.left, body) === true && evaluate(node.right, body) === true
    case 'not':
      return evaluate(node.operand, body) !== true
    case 'cmp':
      return compare(node.cmp, evaluate(node.left, body), evaluate(node.right, body))
    case 'literal':
      return node.value
    case 'path':
      return resolvePath(body, node.segments)
    case 'call': {
      const args = node.args.map((a) => evaluate(a, body))
      if (node.name === 'isof') {
        const type = args.at(-1)
        const target = args.length === 2 ? args[0] : body
        if (typeof type !== 'string') throw new ODataError('isof needs a type name')
        return target !== null && typeof target === 'object' && isOfType(target as Record<string, unknown>, type)
      }
      if (node.name === 'tolower' || node.name === 'toupper') {
        return typeof args[0] === 'string'
          ? node.name === 'tolower'
            ? args[0].toLowerCase()
            : args[0].toUpperCase()
          : null
      }
      const [text, part] = args
      if (typeof text !== 'string' || typeof part !== 'string') return false
      const [t, p] = [text.toLowerCase(), part.toLowerCase()]
      return node.name === 'startswith' ? t.startsWith(p) : node.name === 'endswith' ? t.endsWith(p) : t.includes(p)
    }
  }
}

export const matches = (node: FilterNode | null, body: Record<string, unknown>) =>
  node === null || evaluate(node, body) === true
