import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { cloudEndpoints } from './clouds.ts'
import { GraphError } from './errors.ts'
import { GROUP_TYPE, isSkipped, singletonItem, type PolicyTypeEntry } from './policy-types.ts'
import { groupReadUrl, itemReads, listUrl } from './read-plan.ts'
import { countGraph } from './graph-metrics.ts'
import { DEFAULT_RETRY, isRetryableStatus, parseRetryAfter, retryDelayMs, type RetryPolicy } from './retry.ts'
import type { GraphTenantContext } from './tenant-context.ts'
import { sharedBudgets, type BudgetRegistry } from './throttle-budget.ts'
import { createMsalTokenProvider, type TokenProvider } from './token-provider.ts'

/**
 * The only code that talks to Microsoft Graph. Every request goes through the tenant's
 * throttle budget and adaptive concurrency, is retried on 429/503/504 (Retry-After first,
 * else back-off with jitter, a bounded number of times) and fails as a typed GraphError.
 * A 429 pauses the tenant only when it is the tenant's (see TenantBudget.throttled).
 */

export type GraphObject = Record<string, unknown> & { id: string }

export type GraphPage = {
  /** The objects the sync mirrors: built-ins the catalog skips are left out. */
  items: GraphObject[]
  /** How many listed objects were skipped as built-in. */
  skipped: number
  pageNumber: number
}

export type BatchResult = { url: string; status: number; body: unknown; error?: GraphError }

export type ItemRead = {
  item: GraphObject
  /** The per-object read, when the type needs one (content the list omits). */
  object?: GraphObject
  /** null when the type has no assignments. */
  assignments: unknown[] | null
  details: Record<string, unknown>
  errors: GraphError[]
}

export type GroupRead = { id: string; group: GraphObject | null; error?: GraphError }

export type GraphLog = { warn(details: object, message: string): void }

export type GraphClientOptions = {
  tokens?: TokenProvider
  budgets?: BudgetRegistry
  retry?: Partial<RetryPolicy>
  /** Per attempt, headers and body included. */
  timeoutMs?: number
  log?: GraphLog
}

type RequestOptions = {
  cost?: number
  permission?: string
  subject?: string
  batch?: boolean
  /** A write: only a 429 is sent again; no answer or a 5xx is `write_unknown` (the caller reconciles). */
  write?: boolean
  /** The `client-request-id` to send (default: a new UUID). */
  clientRequestId?: string
}

/** A write's answer. */
export type WriteReply = { status: number; body: unknown; requestId: string | undefined }
export type WriteMethod = 'POST' | 'PATCH' | 'PUT' | 'DELETE'
type Reply = { status: number; headers: Headers; body: unknown }

export const MAX_BATCH = 20
const SIGN_IN_CODES = new Set(['invalid_credentials', 'tenant_not_found', 'app_not_found'])

export class GraphClient {
  readonly #tokens: TokenProvider
  readonly #budgets: BudgetRegistry
  readonly #retry: RetryPolicy
  readonly #timeoutMs: number
  readonly #log: GraphLog | undefined
  /** What this client sent: HTTP round trips, Graph requests ($batch members counted one by one), 429s, retries. */
  readonly counters = { httpRequests: 0, graphRequests: 0, throttled: 0, retries: 0 }

  constructor(options: GraphClientOptions = {}) {
    this.#tokens = options.tokens ?? createMsalTokenProvider({ timeoutMs: options.timeoutMs })
    this.#budgets = options.budgets ?? sharedBudgets
    this.#retry = { ...DEFAULT_RETRY, ...options.retry }
    this.#timeoutMs = options.timeoutMs ?? 30_000
    this.#log = options.log
  }

  /** GET one resource: a relative URL (`/beta/...`) or an absolute one on the tenant's Graph host. */
  async get<T = unknown>(
    ctx: GraphTenantContext,
    url: string,
    options: { permission?: string; subject?: string } = {},
  ): Promise<T> {
    return (await this.#request(ctx, 'GET', url, undefined, options)).body as T
  }

  /**
   * One write (POST, PATCH, PUT, DELETE) within the tenant's write limit. A 429 is sent again
   * after Retry-After (Intune does not apply a throttled write); any other refusal is a GraphError.
   * When the outcome is unknown (no answer, a timeout, a 5xx) it is never sent again here: it
   * fails as `write_unknown`, and the caller reconciles before deciding to send it again
   * (src/graph/writes/journal.ts). `clientRequestId` is the write's idempotency marker.
   */
  async write(
    ctx: GraphTenantContext,
    method: WriteMethod,
    url: string,
    body: unknown,
    options: { permission?: string; subject?: string; clientRequestId?: string } = {},
  ): Promise<WriteReply> {
    const reply = await this.#request(ctx, method, url, body, { ...options, write: true })
    return { status: reply.status, body: reply.body, requestId: reply.headers.get('request-id') ?? undefined }
  }

  /** Every item of a collection, following `@odata.nextLink`, one page at a time. */
  async *pagesOf(
    ctx: GraphTenantContext,
    url: string,
    options: { permission?: string; subject?: string } = {},
  ): AsyncGenerator<GraphObject[]> {
    let next: Promise<Reply> | undefined = this.#request(ctx, 'GET', url, undefined, options)
    while (next) {
      const body = (await next).body as { value?: GraphObject[]; '@odata.nextLink'?: string }
      const link = body['@odata.nextLink']
      // The next page loads while the caller works on this one.
      next = link ? this.#request(ctx, 'GET', link, undefined, options) : undefined
      void next?.catch(() => undefined)
      yield body.value ?? []
    }
  }

  /**
   * The pages of a catalog type's list, with the catalog's filter, page size and `$expand`. A
   * singleton is one page of one GET: its object, or none when Graph answers 404 or an empty object.
   */
  async *pages(
    ctx: GraphTenantContext,
    entry: PolicyTypeEntry,
    options: { top?: number } = {},
  ): AsyncGenerator<GraphPage> {
    if (!entry.listable) throw new Error(`${entry.key} is read by id, not listed`)
    if (entry.singleton) {
      let body: unknown = null
      try {
        body = await this.get(ctx, listUrl(entry), { permission: entry.permission, subject: entry.label })
      } catch (error) {
        if (!(error instanceof GraphError && error.code === 'not_found')) throw error
      }
      const item = singletonItem(entry, body)
      yield { items: item ? [item] : [], skipped: 0, pageNumber: 1 }
      return
    }
    let pageNumber = 0
    for await (const value of this.pagesOf(ctx, listUrl(entry, options), {
      permission: entry.permission,
      subject: entry.label,
    })) {
      const items = value.filter((item) => !isSkipped(entry, item))
      yield { items, skipped: value.length - items.length, pageNumber: ++pageNumber }
    }
  }

  /**
   * GETs of any number of relative URLs, sent as `$batch` requests of up to 20 (each member
   * counts against the budget). Members answered 429/503/504 are sent again after the
   * longest Retry-After among them. Results come back in the order of `urls`.
   */
  async batch(
    ctx: GraphTenantContext,
    urls: readonly string[],
    options: { permission?: string; subject?: string } = {},
  ): Promise<BatchResult[]> {
    const results: BatchResult[] = new Array<BatchResult>(urls.length)
    const byVersion = new Map<string, number[]>()
    urls.forEach((url, i) => {
      const version = /^\/(v1\.0|beta)\//.exec(url)?.[1]
      if (!version) throw new Error(`A $batch member must be a relative URL starting with /v1.0/ or /beta/: ${url}`)
      const list = byVersion.get(version) ?? []
      list.push(i)
      byVersion.set(version, list)
    })
    const chunks: { version: string; members: number[] }[] = []
    for (const [version, indexes] of byVersion) {
      for (let i = 0; i < indexes.length; i += MAX_BATCH)
        chunks.push({ version, members: indexes.slice(i, i + MAX_BATCH) })
    }
    await Promise.all(chunks.map((chunk) => this.#runBatch(ctx, chunk.version, chunk.members, urls, results, options)))
    return results
  }

  async #runBatch(
    ctx: GraphTenantContext,
    version: string,
    members: number[],
    urls: readonly string[],
    results: BatchResult[],
    options: RequestOptions,
  ) {
    let pending = members
    for (let attempt = 1; pending.length > 0; attempt++) {
      const requests = pending.map((i) => ({ id: String(i), method: 'GET', url: urls[i]!.slice(version.length + 1) }))
      let reply: Reply
      try {
        reply = await this.#request(
          ctx,
          'POST',
          `/${version}/$batch`,
          { requests },
          { ...options, cost: pending.length, batch: true },
        )
      } catch (error) {
        // Nothing of the tenant can be read when sign-in fails: that is the caller's error, not a member's.
        if (error instanceof GraphError && SIGN_IN_CODES.has(error.code)) throw error
        const failure = error instanceof GraphError ? error : new GraphError('graph_unavailable', String(error))
        for (const i of pending) results[i] = { url: urls[i]!, status: failure.status ?? 0, body: null, error: failure }
        return
      }
      const responses =
        (
          reply.body as {
            responses?: { id: string; status: number; headers?: Record<string, string>; body?: unknown }[]
          }
        ).responses ?? []
      const answered = new Set<number>()
      const retry: number[] = []
      let retryAfter: number | undefined
      let throttled = 0
      for (const r of responses) {
        const i = Number(r.id)
        if (!pending.includes(i)) continue
        answered.add(i)
        if (isRetryableStatus(r.status)) {
          retry.push(i)
          if (r.status === 429) throttled++
          const after = parseRetryAfter(r.headers?.['Retry-After'] ?? r.headers?.['retry-after'])
          if (after !== undefined) retryAfter = Math.max(retryAfter ?? 0, after)
        } else {
          results[i] =
            r.status < 300
              ? { url: urls[i]!, status: r.status, body: r.body }
              : { url: urls[i]!, status: r.status, body: r.body, error: this.#classify(ctx, r.status, r.body, options) }
        }
      }
      for (const i of pending) if (!answered.has(i)) retry.push(i)
      const budget = this.#budgets.for(ctx.tenantKey)
      for (let k = 0; k < answered.size; k++) budget.throttling.record(k < throttled)
      if (retry.length === 0) return
      this.counters.throttled += throttled
      countGraph(ctx.tenantKey, { throttled, retries: retry.length })
      if (attempt >= this.#retry.maxAttempts) {
        for (const i of retry)
          results[i] = {
            url: urls[i]!,
            status: throttled > 0 ? 429 : 503,
            body: null,
            error: this.#exhausted(ctx, throttled > 0 ? 429 : 503, options),
          }
        return
      }
      const wait = retryDelayMs(this.#retry, attempt, retryAfter)
      if (throttled > 0) budget.throttled(budget.reads, { retryAfter: retryAfter !== undefined, waitMs: wait })
      this.counters.retries += retry.length
      this.#log?.warn(
        { tenant: ctx.tenantKey, members: retry.length, throttled, waitMs: Math.round(wait), attempt },
        'graph $batch members retried',
      )
      await sleep(wait)
      pending = retry
    }
  }

  /**
   * Everything the catalog says an object needs beyond the list (assignments, content the
   * list omits, settings and other details), for a page of objects: sent in `$batch`, and
   * paged sub-collections followed to their end.
   */
  async readItems(ctx: GraphTenantContext, entry: PolicyTypeEntry, items: readonly GraphObject[]): Promise<ItemRead[]> {
    const plans = items.flatMap((item, n) => itemReads(entry, item).map((read) => ({ n, read })))
    const results =
      plans.length > 0
        ? await this.batch(
            ctx,
            plans.map((p) => p.read.url),
            { permission: entry.permission, subject: entry.label },
          )
        : []
    const reads: ItemRead[] = items.map((item) => ({
      item,
      assignments:
        entry.assignments === 'expand'
          ? ((item.assignments as unknown[] | undefined) ?? [])
          : entry.assignments
            ? []
            : null,
      details: Object.fromEntries(
        entry.details.filter((d) => d.via === 'list').map((d) => [d.name, item[d.name] ?? []]),
      ),
      errors: [],
    }))
    await Promise.all(
      plans.map(async ({ n, read }, k) => {
        const target = reads[n]!
        const result = results[k]!
        if (result.error) {
          target.errors.push(result.error)
          return
        }
        const body = result.body as Record<string, unknown> & { value?: unknown[]; '@odata.nextLink'?: string }
        if (!read.paged) {
          target.object = body as GraphObject
          if (entry.assignments === 'batch') target.assignments = (body.assignments as unknown[] | undefined) ?? []
          for (const d of entry.details) if (d.via === 'expand') target.details[d.name] = body[d.name] ?? []
          return
        }
        const values = [...(body.value ?? [])]
        const link = body['@odata.nextLink']
        if (link) {
          try {
            for await (const more of this.pagesOf(ctx, link, { permission: entry.permission, subject: entry.label }))
              values.push(...more)
          } catch (error) {
            target.errors.push(error instanceof GraphError ? error : new GraphError('graph_unavailable', String(error)))
            return
          }
        }
        if (read.name === 'assignments') target.assignments = values
        else target.details[read.name] = values
      }),
    )
    return reads
  }

  /** Entra groups by id, with the catalog's `$select`; a deleted group comes back as `group: null`. */
  async readGroups(ctx: GraphTenantContext, ids: readonly string[]): Promise<GroupRead[]> {
    const results = await this.batch(ctx, ids.map(groupReadUrl), {
      permission: GROUP_TYPE.permission,
      subject: GROUP_TYPE.label,
    })
    return ids.map((id, i) => {
      const r = results[i]!
      if (!r.error) return { id, group: r.body as GraphObject }
      return r.error.code === 'not_found' ? { id, group: null } : { id, group: null, error: r.error }
    })
  }

  #resolve(ctx: GraphTenantContext, url: string): string {
    const base = cloudEndpoints(ctx.cloud, ctx.emulatorUrl).graphUrl
    if (url.startsWith('/')) return `${base}${url}`
    // A nextLink elsewhere would receive the tenant's token: refuse it.
    if (!url.startsWith(`${base}/`)) throw new GraphError('bad_request', `Refusing to follow a link outside ${base}`)
    return url
  }

  async #request(
    ctx: GraphTenantContext,
    method: 'GET' | WriteMethod,
    url: string,
    body: unknown,
    options: RequestOptions,
  ): Promise<Reply> {
    const target = this.#resolve(ctx, url)
    const budget = this.#budgets.for(ctx.tenantKey)
    const bucket = method === 'GET' || options.batch ? budget.reads : budget.writes
    const cost = options.cost ?? 1
    let forceRefresh = false
    let refreshed = false
    for (let attempt = 1; ; attempt++) {
      // A write takes its slot in the write window at the last moment, once it holds a token and a
      // connection slot: the window counts sends, so nothing may delay a write after it was counted.
      if (!options.write) await bucket.take(cost)
      await budget.concurrency.acquire()
      let response: Response | undefined
      let text = ''
      let failure: unknown
      let sentAt = 0
      try {
        const token = await this.#tokens.getToken(ctx, { forceRefresh })
        forceRefresh = false
        if (options.write) await bucket.take(cost)
        sentAt = performance.now()
        response = await fetch(target, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            'client-request-id': options.clientRequestId ?? randomUUID(),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(this.#timeoutMs),
        })
        text = await response.text()
      } catch (error) {
        if (error instanceof GraphError) {
          budget.concurrency.release()
          throw error
        }
        failure = error
        response = undefined
      }
      budget.concurrency.release()
      if (options.write && response) budget.writes.observe(performance.now() - sentAt)
      if (response) budget.throttling.record(response.status === 429)
      if (response) {
        this.counters.httpRequests++
        this.counters.graphRequests += options.batch ? 0 : 1
        if (options.batch && response.ok) this.counters.graphRequests += cost
        countGraph(ctx.tenantKey, { requests: options.batch ? (response.ok ? cost : 0) : 1 })
      }
      const parsed = parseBody(text)
      if (response?.ok) return { status: response.status, headers: response.headers, body: parsed }
      // An expired or revoked token: fetch a new one once, without spending an attempt.
      if (response?.status === 401 && !refreshed) {
        refreshed = forceRefresh = true
        attempt--
        continue
      }
      if (response && !isRetryableStatus(response.status)) throw this.#classify(ctx, response.status, parsed, options)
      const status = response?.status ?? 0
      if (options.write && status !== 429) {
        const reason = status
          ? `HTTP ${status}`
          : failure instanceof Error && failure.name === 'TimeoutError'
            ? `no answer within ${this.#timeoutMs} ms`
            : 'the connection was lost before the answer'
        throw new GraphError(
          'write_unknown',
          `${options.subject ?? 'Graph'}: ${method} ${new URL(target).pathname} may or may not have been applied (${reason})`,
          { status: status || undefined, cause: failure },
        )
      }
      if (attempt >= this.#retry.maxAttempts) throw this.#exhausted(ctx, status, options, failure)
      const retryAfter = parseRetryAfter(response?.headers.get('retry-after'))
      const wait = retryDelayMs(this.#retry, attempt, retryAfter)
      countGraph(ctx.tenantKey, { retries: 1, throttled: status === 429 ? 1 : 0 })
      if (status === 429) {
        this.counters.throttled++
        // A stray 429 delays only this request; the tenant waits when Graph says it is throttled as a whole.
        budget.throttled(bucket, { retryAfter: retryAfter !== undefined, waitMs: wait })
      }
      this.counters.retries++
      this.#log?.warn(
        { tenant: ctx.tenantKey, status, attempt, waitMs: Math.round(wait), path: new URL(target).pathname },
        'graph request retried',
      )
      await sleep(wait)
    }
  }

  #exhausted(ctx: GraphTenantContext, status: number, options: RequestOptions, cause?: unknown): GraphError {
    const what = options.subject ?? 'Graph'
    if (status === 429) {
      return new GraphError(
        'throttled_exhausted',
        `${what}: Microsoft Graph kept throttling tenant ${ctx.entraTenantId} after ${this.#retry.maxAttempts} attempts; try again later`,
        { status },
      )
    }
    const reason = status
      ? `HTTP ${status}`
      : cause instanceof Error && cause.name === 'TimeoutError'
        ? `no answer within ${this.#timeoutMs} ms`
        : 'the connection failed'
    return new GraphError(
      'graph_unavailable',
      `${what}: Microsoft Graph was unavailable (${reason}) after ${this.#retry.maxAttempts} attempts`,
      { status: status || undefined, cause },
    )
  }

  #classify(ctx: GraphTenantContext, status: number, body: unknown, options: RequestOptions): GraphError {
    const error = (
      body as { error?: { code?: string; message?: string; innerError?: Record<string, string> } } | undefined
    )?.error
    const requestId = error?.innerError?.['request-id']
    const graphMessage = error?.message ? `: ${error.message}` : ''
    const what = options.subject ?? 'the resource'
    switch (status) {
      case 403: {
        const permission =
          options.permission ??
          /following scopes: ([\w.]+)/.exec(error?.message ?? '')?.[1] ??
          'an application permission'
        return new GraphError(
          'missing_permission',
          `The app registration ${ctx.clientId} lacks the application permission ${permission} needed to ${options.write ? 'write' : 'read'} ${what}: add it in Entra and grant admin consent`,
          { status, permission, requestId },
        )
      }
      case 404:
        return new GraphError('not_found', `${what} not found${graphMessage}`, { status, requestId })
      case 401:
        return new GraphError(
          'invalid_credentials',
          `Microsoft Graph rejected the access token of app ${ctx.clientId}${graphMessage}`,
          { status, requestId },
        )
      default:
        return status >= 500
          ? new GraphError(
              'graph_unavailable',
              `Microsoft Graph failed reading ${what} (HTTP ${status})${graphMessage}`,
              { status, requestId },
            )
          : new GraphError(
              'bad_request',
              `Microsoft Graph refused the request for ${what} (HTTP ${status})${graphMessage}`,
              { status, requestId },
            )
    }
  }
}

function parseBody(text: string): unknown {
  if (!text) return null
  try {
    return JSON.parse(text)
  } catch {
    return { error: { message: text.slice(0, 200) } }
  }
}
