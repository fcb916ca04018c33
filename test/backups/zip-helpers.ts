import yauzl from 'yauzl'
import yazl from 'yazl'

/** Every entry of a ZIP, in order, as text. */
export async function unzip(buffer: Buffer): Promise<[string, string][]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(buffer, { lazyEntries: true }, (e, z) => (e ? reject(e) : resolve(z))),
  )
  const out: [string, string][] = []
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject)
    zip.on('end', () => resolve())
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (error, stream) => {
        if (error) return reject(error)
        const chunks: Buffer[] = []
        stream.on('data', (c: Buffer) => chunks.push(c))
        stream.on('end', () => {
          out.push([entry.fileName, Buffer.concat(chunks).toString('utf8')])
          zip.readEntry()
        })
      })
    })
    zip.readEntry()
  })
  return out
}

/** A ZIP of the given entries (compressed). */
export async function zipOf(entries: readonly [string, string | Buffer][]): Promise<Buffer> {
  const zip = new yazl.ZipFile()
  for (const [name, data] of entries) zip.addBuffer(Buffer.isBuffer(data) ? data : Buffer.from(data), name)
  zip.end()
  return Buffer.concat(
    await (zip.outputStream as unknown as NodeJS.ReadableStream & { toArray(): Promise<Buffer[]> }).toArray(),
  )
}
