import { createWriteStream } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { openDatabase } from '../src/db/engine.ts'
import type { Side } from '../src/modules/compare/sides.ts'
import { documentKeys, documentObjects } from '../src/modules/documentation/document.ts'
import { htmlStream, markdownZip } from '../src/modules/documentation/formats.ts'

/**
 * One documentation export in a process of its own, so that its peak RSS is the export's and not the
 * benchmark's (issue 27: 10,000 objects in ≤ 300 MB): `node bench/docs-child.ts markdown|html
 * <database url> <tenant id> <file>`. The export's own path, as the docs.export handler renders it
 * (document keys → objects 500 at a time → the Markdown ZIP or the HTML stream), written to `file`.
 * Prints `{ms, bytes, peak_rss_mib, baseline_rss_mib, peak_heap_mib}` as JSON on the last line; the
 * peak is the kernel's maxRSS of this process (modules, the pg pool and V8 included).
 */
const [format, url, tenantId, file] = process.argv.slice(2) as ['markdown' | 'html', string, string, string]
const handle = await openDatabase({ databaseUrl: url, dataDir: '/nonexistent', role: 'cli' })
const baseline = process.memoryUsage().rss
let peakHeap = 0
const sampler = setInterval(() => (peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)), 50)
const started = performance.now()
const side: Side = { kind: 'tenant', tenantId, at: null, label: 'Bench' }
const keys = await documentKeys(handle.db, side)
const input = {
  title: 'Bench',
  keys,
  objects: documentObjects(handle.db, side, keys, { includeAssignments: true }),
  includeAssignments: true,
  changes: null,
}
let bytes = 0
const counted = async function* () {
  for await (const chunk of format === 'markdown' ? markdownZip(input) : htmlStream(input)) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    bytes += buffer.length
    yield buffer
  }
}
await pipeline(Readable.from(counted()), createWriteStream(file))
const ms = Math.round(performance.now() - started)
clearInterval(sampler)
await handle.close()
console.log(
  JSON.stringify({
    ms,
    bytes,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 102.4) / 10,
    baseline_rss_mib: Math.round(baseline / 104857.6) / 10,
    peak_heap_mib: Math.round(peakHeap / 104857.6) / 10,
  }),
)
