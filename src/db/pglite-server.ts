import { createServer, type Server, type Socket } from 'node:net'
import type { PGlite } from '@electric-sql/pglite'

/**
 * Serves one PGlite to many PostgreSQL clients on a Unix socket.
 *
 * PGlite is a single backend: every client shares its session state. Two rules keep clients
 * from seeing each other's work:
 * - A client's request is executed whole: all messages up to and including Sync (extended
 *   protocol) or one Query (simple protocol). Interleaving at message granularity — what
 *   @electric-sql/pglite-socket 0.2 does — lets one client's Parse replace another's unnamed
 *   statement between its Bind and Execute, and under load a client waits forever.
 * - While a client holds an open transaction block, only that client's requests run.
 */
export class PgliteServer {
  readonly #db: PGlite
  readonly #server: Server
  readonly #queue: { connection: Connection; bytes: Uint8Array; done: () => void }[] = []
  readonly #connections = new Set<Connection>()
  #running = false
  /** The connection whose transaction block is open, if any. */
  #owner: Connection | null = null

  constructor(db: PGlite) {
    this.#db = db
    this.#server = createServer((socket) => this.#connections.add(new Connection(socket, this)))
  }

  listen(path: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(path, () => resolve())
    })
  }

  async close(): Promise<void> {
    for (const connection of this.#connections) connection.destroy()
    await new Promise<void>((resolve) => this.#server.close(() => resolve()))
  }

  /** @internal */
  submit(connection: Connection, bytes: Uint8Array): Promise<void> {
    return new Promise((done) => {
      this.#queue.push({ connection, bytes, done })
      void this.#drain()
    })
  }

  /** @internal a client went away: drop its pending requests, end a transaction it left open. */
  async disconnected(connection: Connection) {
    this.#connections.delete(connection)
    for (let i = this.#queue.length - 1; i >= 0; i--) {
      if (this.#queue[i]!.connection === connection) this.#queue.splice(i, 1)[0]!.done()
    }
    if (this.#owner === connection) {
      await this.#db.runExclusive(() => this.#db.exec('ROLLBACK'))
      this.#owner = null
      void this.#drain()
    }
  }

  async #drain() {
    if (this.#running) return
    this.#running = true
    try {
      for (;;) {
        const index = this.#owner ? this.#queue.findIndex((r) => r.connection === this.#owner) : 0
        if (index < 0 || this.#queue.length === 0) return
        const [request] = this.#queue.splice(index, 1)
        const { connection, bytes, done } = request!
        try {
          await this.#db.runExclusive(() => this.#db.execProtocolRawStream(bytes, { onRawData: (chunk) => connection.write(chunk) }))
        } catch {
          // PGlite reports protocol errors in the stream itself; a throw here means the client is gone.
        }
        this.#owner = this.#db.isInTransaction() ? connection : null
        done()
      }
    } finally {
      this.#running = false
    }
  }
}

const SSL_REQUEST = 80877103
const CANCEL_REQUEST = 80877102

class Connection {
  readonly #socket: Socket
  readonly #server: PgliteServer
  #buffer = Buffer.alloc(0)
  #pending: Buffer[] = []
  #started = false
  #chain: Promise<void> = Promise.resolve()

  constructor(socket: Socket, server: PgliteServer) {
    this.#socket = socket
    this.#server = server
    socket.on('data', (data) => this.#onData(data))
    socket.on('error', () => socket.destroy())
    socket.on('close', () => void this.#server.disconnected(this))
  }

  write(chunk: Uint8Array) {
    if (this.#socket.writable) this.#socket.write(chunk)
  }

  destroy() {
    this.#socket.destroy()
  }

  #onData(data: Buffer) {
    this.#buffer = Buffer.concat([this.#buffer, data])
    for (;;) {
      if (!this.#started) {
        if (this.#buffer.length < 8) return
        const length = this.#buffer.readInt32BE(0)
        if (this.#buffer.length < length) return
        const code = this.#buffer.readInt32BE(4)
        const packet = this.#buffer.subarray(0, length)
        this.#buffer = this.#buffer.subarray(length)
        if (code === SSL_REQUEST) this.write(Buffer.from('N'))
        else if (code === CANCEL_REQUEST) this.destroy()
        else {
          this.#started = true
          this.#send([packet])
        }
        continue
      }
      if (this.#buffer.length < 5) return
      const length = this.#buffer.readInt32BE(1) + 1
      if (this.#buffer.length < length) return
      const type = String.fromCharCode(this.#buffer[0]!)
      const message = this.#buffer.subarray(0, length)
      this.#buffer = this.#buffer.subarray(length)
      if (type === 'X') {
        this.#socket.end()
        return
      }
      this.#pending.push(message)
      // A request ends at Sync (extended protocol), Query (simple) or a password/auth reply.
      if (type === 'S' || type === 'Q' || type === 'p' || type === 'H') {
        this.#send(this.#pending)
        this.#pending = []
      }
    }
  }

  #send(messages: Buffer[]) {
    const bytes = new Uint8Array(Buffer.concat(messages))
    // One request at a time per client, in order.
    this.#chain = this.#chain.then(() => this.#server.submit(this, bytes))
  }
}
