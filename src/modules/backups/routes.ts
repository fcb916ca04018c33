import { authorizeDestructive } from '../access/authority.ts'
import { randomUUID } from 'node:crypto'
import { unlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { and, eq, isNull } from 'drizzle-orm'
import multipart, { type MultipartFile } from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { ZodTypeProvider } from 'fastify-type-provider-zod'
import { z } from 'zod'
import { backupSets, inventoryItems } from '../../db/schema.ts'
import type { HttpDeps } from '../../http/deps.ts'
import { cursorQuery, listEnvelope, responses } from '../../http/schemas.ts'
import { decodeCursor, decodeTextCursor, encodeCursor, encodeTextCursor } from '../../lib/cursor.ts'
import { notFound, validationError } from '../../lib/errors.ts'
import { diffContents } from '../inventory/diff.ts'
import { namesOf } from '../inventory/item-diff.ts'
import { presentRun, runResponse } from '../operations/presenter.ts'
import { findRun } from '../operations/repository.ts'
import { validatedInput } from '../operations/start-run.ts'
import { tenantIdParams } from '../../http/schemas.ts'
import { deleteBackup, importBackup, setRetention, startBackup, updateBackup } from './commands.ts'
import {
  backupItemDetailResponse,
  backupItemResponse,
  backupResponse,
  missingResponse,
  presentBackup,
} from './presenter.ts'
import { findBackup, findBackupItem, findRetention, listBackupItems, listBackups, listMissing } from './repository.ts'
import {
  backupParams,
  createBody,
  itemQuery,
  itemsQuery,
  missingQuery,
  pruneBody,
  retentionBody,
  retentionResponse,
  updateBody,
} from './schemas.ts'
import { exportBackupZip } from './zip-export.ts'
import { DEFAULT_IMPORT_LIMITS, invalidBackupFile, receiveUpload } from './zip-import.ts'

/** A form carries one file (the ZIP, past the size limit by one byte so the limit is ours to report) and a few small fields. */
const UPLOAD_FORM_LIMITS = {
  files: 1,
  fields: 10,
  fieldSize: 10_000,
  parts: 20,
  fileSize: DEFAULT_IMPORT_LIMITS.maxBytes + 1,
}

/** The uploaded ZIP to `path`: the raw body, or a form's `file` field; anything else is a 422 naming it. */
async function receiveRequestZip(request: FastifyRequest, path: string) {
  if (!request.isMultipart()) return receiveUpload(request.body as Readable, path, DEFAULT_IMPORT_LIMITS.maxBytes)
  let part: MultipartFile | undefined
  try {
    part = await request.file()
  } catch (error) {
    throw invalidBackupFile(`The form could not be read: ${(error as Error).message}`)
  }
  if (!part) throw invalidBackupFile('The form has no file: send the ZIP in the field "file"')
  if (part.fieldname !== 'file') {
    part.file.resume()
    throw invalidBackupFile(`The form's file is in the field "${part.fieldname}": send the ZIP in the field "file"`)
  }
  return receiveUpload(part.file, path, DEFAULT_IMPORT_LIMITS.maxBytes)
}

/** The ZIP filename of a set: its name, safe for a Content-Disposition header. */
const zipName = (name: string) => `${name.replace(/[^A-Za-z0-9 ._-]/g, '_').slice(0, 100) || 'backup'}.zip`

export function registerBackupRoutes(app: FastifyInstance, { db, auth, engine, secrets }: HttpDeps) {
  const r = app.withTypeProvider<ZodTypeProvider>()
  const tags = ['backups']

  const load = async (tenantId: string, backupId: string) => {
    const row = await findBackup(db, tenantId, backupId)
    if (!row) throw notFound('Backup')
    return row
  }

  r.post(
    '/api/tenants/:tenantId/backups',
    {
      config: { capability: 'backups.manage' },
      schema: {
        tags,
        summary: 'Start a backup (a backup.create run): 202 with the run and its set',
        params: tenantIdParams,
        body: createBody.nullish(),
        response: responses({ 202: z.object({ run: runResponse, backup: backupResponse, deduplicated: z.boolean() }) }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      // No body backs up everything; a JSON `null` sent on purpose is a mistake, not "all".
      if (request.body === null && Number(request.headers['content-length'] ?? 0) > 0) {
        throw validationError([
          {
            field: '(body)',
            message: 'must be an object ({name?, selection?, item_ids?}), or no body at all for everything',
          },
        ])
      }
      const { run, deduplicated, backup } = await startBackup(engine, db, {
        tenantId: access.tenantId,
        body: request.body ?? {},
        initiatorUserId: principal.user.id,
        actor: auth.actorOf(request, principal),
      })
      const runRow = (await findRun(db, access.tenantId, run.id)) ?? {
        run,
        initiatorName: principal.user.name,
        scheduleName: null,
      }
      return reply.code(202).send({
        run: presentRun(engine.catalog, access, runRow),
        backup: presentBackup((await findBackup(db, access.tenantId, backup.id))!),
        deduplicated,
      })
    },
  )

  r.get(
    '/api/tenants/:tenantId/backups',
    {
      schema: {
        tags,
        summary: "The tenant's backup sets, newest first",
        params: tenantIdParams,
        querystring: cursorQuery,
        response: responses({ 200: listEnvelope(backupResponse) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const { cursor, limit } = request.query
      const rows = await listBackups(db, access.tenantId, { cursor: decodeCursor(cursor), limit: limit + 1 })
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      return {
        data: page.map(presentBackup),
        next_cursor:
          rows.length > limit && last ? encodeCursor({ at: last.set.createdAt.toISOString(), id: last.set.id }) : null,
      }
    },
  )

  r.get(
    '/api/tenants/:tenantId/backups/:backupId',
    {
      schema: {
        tags,
        summary: 'One backup set with its manifest summary (counts, missing objects)',
        params: backupParams,
        response: responses({ 200: backupResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      return presentBackup(await load(access.tenantId, request.params.backupId))
    },
  )

  r.patch(
    '/api/tenants/:tenantId/backups/:backupId',
    {
      config: { capability: 'backups.manage' },
      schema: {
        tags,
        summary: 'Rename, label, protect or unprotect a set',
        params: backupParams,
        body: updateBody,
        response: responses({ 200: backupResponse }),
      },
    },
    async (request) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      await load(access.tenantId, request.params.backupId)
      await updateBackup(db, access, auth.actorOf(request, principal), request.params.backupId, request.body)
      return presentBackup(await load(access.tenantId, request.params.backupId))
    },
  )

  r.delete(
    '/api/tenants/:tenantId/backups/:backupId',
    {
      config: { capability: 'backups.manage' },
      schema: {
        tags,
        summary: 'Delete a set (409 while protected)',
        params: backupParams,
        response: responses({ 204: z.null() }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      authorizeDestructive(access, 'backups.delete')
      await load(access.tenantId, request.params.backupId)
      await deleteBackup(db, access, auth.actorOf(request, principal), request.params.backupId)
      return reply.code(204).send(null)
    },
  )

  r.get(
    '/api/tenants/:tenantId/backups/:backupId/items',
    {
      schema: {
        tags,
        summary: "A set's objects by type and display name",
        params: backupParams,
        querystring: itemsQuery,
        response: responses({ 200: listEnvelope(backupItemResponse) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const set = await load(access.tenantId, request.params.backupId)
      const { cursor, limit, ...filters } = request.query
      const decoded = decodeTextCursor(cursor)
      const after = decoded ? (JSON.parse(decoded.text) as { type: string; name: string; id: string }) : undefined
      const rows = await listBackupItems(db, set.set.id, filters, { after, limit: limit + 1 })
      const page = rows.slice(0, limit)
      const last = page.at(-1)
      return {
        data: page.map((row) => ({ type: row.type, id: row.id, display_name: row.name, sha256: row.hash })),
        next_cursor:
          rows.length > limit && last
            ? encodeTextCursor({ text: JSON.stringify({ type: last.type, name: last.name, id: last.id }), id: last.id })
            : null,
      }
    },
  )

  r.get(
    '/api/tenants/:tenantId/backups/:backupId/missing',
    {
      schema: {
        tags,
        summary:
          "The objects a set misses, in manifest order (paged: a set's summary carries only the first few and the count)",
        params: backupParams,
        querystring: missingQuery,
        response: responses({ 200: listEnvelope(missingResponse) }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const set = await load(access.tenantId, request.params.backupId)
      const { cursor, limit } = request.query
      const rows = await listMissing(db, set.set.id, { after: cursor ?? 0, limit: limit + 1 })
      const page = rows.slice(0, limit)
      const next = rows.length > limit ? String(page.at(-1)!.position) : null
      return { data: page.map((r) => r.entry as z.output<typeof missingResponse>), next_cursor: next }
    },
  )

  r.get(
    '/api/tenants/:tenantId/backups/:backupId/item',
    {
      schema: {
        tags,
        summary: "One object of a set: its content, and the tenant's current version to diff against",
        params: backupParams,
        querystring: itemQuery,
        response: responses({ 200: backupItemDetailResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const set = await load(access.tenantId, request.params.backupId)
      const item = await findBackupItem(db, access.tenantId, set.set.id, request.query.type, request.query.id)
      if (!item) throw notFound('Backup item')
      const [current] = await db
        .select({
          id: inventoryItems.id,
          hash: inventoryItems.contentHash,
          payload: inventoryItems.payload,
          assignments: inventoryItems.assignments,
        })
        .from(inventoryItems)
        .where(
          and(
            eq(inventoryItems.tenantId, access.tenantId),
            eq(inventoryItems.policyType, item.type),
            eq(inventoryItems.externalId, item.id),
            isNull(inventoryItems.removedAt),
          ),
        )
      return {
        type: item.type,
        id: item.id,
        display_name: item.name,
        sha256: item.hash,
        payload: item.payload,
        assignments: item.assignments,
        current: current
          ? { item_id: current.id, sha256: current.hash, payload: current.payload, assignments: current.assignments }
          : null,
        changed: !current || current.hash !== item.hash,
        changes:
          !current || current.hash !== item.hash
            ? diffContents(
                item,
                current ?? null,
                await namesOf(db, access.tenantId, current ? [item, current] : [item]),
              )
            : [],
      }
    },
  )

  r.get(
    '/api/tenants/:tenantId/backups/:backupId/export',
    {
      config: { capability: 'backups.manage' },
      schema: {
        tags,
        summary: 'The set as a ZIP (streamed): manifest.json, then a folder per type with one JSON file per object',
        params: backupParams,
        response: responses({ 200: z.any().describe('application/zip') }),
      },
    },
    async (request, reply) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId)
      const { set: summary } = await load(access.tenantId, request.params.backupId)
      if (summary.status === 'running' || summary.status === 'failed') throw notFound('Completed backup')
      // The whole manifest (missing entries too) goes into the file: read here, not in the summary.
      const [set] = await db.select().from(backupSets).where(eq(backupSets.id, summary.id))
      if (!set) throw notFound('Backup')
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="${zipName(set.name)}"`)
        .send(exportBackupZip(db, set, secrets))
    },
  )

  app.register(async (scope) => {
    // The ZIP arrives as a stream either way, written to disk by the handler and never buffered:
    // the raw body (Content-Type: application/zip), or the `file` field of a multipart form.
    scope.addContentTypeParser('application/zip', (_request, payload, done) => done(null, payload))
    await scope.register(multipart, { limits: UPLOAD_FORM_LIMITS, throwFileSizeLimit: false })
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/tenants/:tenantId/backups/import',
      {
        config: { capability: 'backups.manage' },
        schema: {
          tags,
          summary:
            'Import a backup ZIP as a set of this tenant (raw body with Content-Type: application/zip, or multipart/form-data with the ZIP in the field `file`): 201, or 422 naming what is wrong',
          params: tenantIdParams,
          response: responses({ 201: backupResponse }),
        },
      },
      async (request, reply) => {
        const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
        const path = join(tmpdir(), `tenantatlas-import-${randomUUID()}.zip`)
        try {
          await receiveRequestZip(request, path)
          const actor = auth.actorOf(request, principal)
          const id = await importBackup(db, access, actor, path, DEFAULT_IMPORT_LIMITS, secrets)
          return reply.code(201).send(presentBackup((await findBackup(db, access.tenantId, id))!))
        } finally {
          await unlink(path).catch(() => undefined)
        }
      },
    )
  })

  r.get(
    '/api/tenants/:tenantId/backup-retention',
    {
      schema: {
        tags,
        summary: "The tenant's backup retention policy (null: keep every set)",
        params: tenantIdParams,
        response: responses({ 200: retentionResponse }),
      },
    },
    async (request) => {
      const { access } = await auth.tenantAccess(request, request.params.tenantId, 'tenant.view')
      const row = await findRetention(db, access.tenantId)
      return row ? { keep_last: row.keepLast, keep_days: row.keepDays } : null
    },
  )

  r.put(
    '/api/tenants/:tenantId/backup-retention',
    {
      config: { capability: 'backups.manage' },
      schema: {
        tags,
        summary: 'Keep the newest keep_last sets and any younger than keep_days days (protected sets always)',
        params: tenantIdParams,
        body: retentionBody,
        response: responses({ 200: retentionResponse }),
      },
    },
    async (request) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      await setRetention(db, access, auth.actorOf(request, principal), request.body)
      return request.body
    },
  )

  r.post(
    '/api/tenants/:tenantId/backup-retention/prune',
    {
      config: { capability: 'backups.manage' },
      schema: {
        tags,
        summary:
          'Apply the retention policy now (a backup.prune system run); the last full backup stays unless delete_last_full_backup',
        params: tenantIdParams,
        body: pruneBody,
        response: responses({ 202: z.object({ run: runResponse, deduplicated: z.boolean() }) }),
      },
    },
    async (request, reply) => {
      const { principal, access } = await auth.tenantAccess(request, request.params.tenantId)
      // No body is the policy as it stands; a JSON `null` sent on purpose is a mistake.
      if (request.body === null && Number(request.headers['content-length'] ?? 0) > 0) {
        throw validationError([
          { field: '(body)', message: 'must be an object ({delete_last_full_backup?}), or no body at all' },
        ])
      }
      const context = validatedInput(engine.catalog, 'backup.prune', request.body ?? {})
      const actor = auth.actorOf(request, principal)
      const { run, deduplicated } = await engine.startRun({
        tenantId: access.tenantId,
        type: 'backup.prune',
        context,
        initiatorUserId: null,
        actor,
      })
      const row = (await findRun(db, access.tenantId, run.id)) ?? { run, initiatorName: null, scheduleName: null }
      return reply.code(202).send({ run: presentRun(engine.catalog, access, row), deduplicated })
    },
  )
}
