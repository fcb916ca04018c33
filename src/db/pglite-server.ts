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
  readonly #onNotification: (channel: string, payload: string) => void
  readonly #server: Server
  readonly #queue: { connection: Connection; bytes: Uint8Array; done: () => void }[] = []
  readonly #connections = new Set<Connection>()
  #running = false
  /** The connection whose transaction block is open, if any. */
  #owner: Connection | null = null

  /**
   * `onNotification` hears every NOTIFY committed by any client: PGlite is one backend, so a
   * notification comes out in the answer to whichever client committed it, and the server is the
   * one place that sees them all (a CLI command's included).
   */
  constructor(db: PGlite, onNotification: (channel: string, payload: string) => void = () => {}) {
    this.#db = db
    this.#onNotification = onNotification
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
    // If its request is executing right now, #drain sees `closed` when it returns and rolls back.
    if (this.#owner === connection && !this.#running) {
      await this.#rollbackAbandoned()
      void this.#drain()
    }
  }

  async #rollbackAbandoned() {
    // exec() takes PGlite's own lock; runExclusive() around it would wait for itself.
    await this.#db.exec('ROLLBACK').catch(() => {})
    this.#owner = null
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
        const notifications = new NotificationScanner(this.#onNotification)
        try {
          await this.#db.runExclusive(() =>
            this.#db.execProtocolRawStream(bytes, {
              onRawData: (chunk) => {
                connection.write(chunk)
                notifications.scan(chunk)
              },
            }),
          )
        } catch {
          // PGlite reports SQL errors in the stream itself; a throw means the exchange broke and the
          // client would wait forever for ReadyForQuery: drop it (and whatever it had open).
          connection.destroy()
        }
        this.#owner = this.#db.isInTransaction() ? connection : null
        // A client that went away while its request ran cannot finish its transaction.
        if (this.#owner === connection && connection.closed) await this.#rollbackAbandoned()
        done()
      }
    } finally {
      this.#running = false
    }
  }
}

/** Finds NotificationResponse ('A') messages in a backend's output, across chunk boundaries. */
class NotificationScanner {
  readonly #emit: (channel: string, payload: string) => void
  #pending = Buffer.alloc(0)

  constructor(emit: (channel: string, payload: string) => void) {
    this.#emit = emit
  }

  scan(chunk: Uint8Array) {
    let buffer = this.#pending.length > 0 ? Buffer.concat([this.#pending, chunk]) : Buffer.from(chunk)
    while (buffer.length >= 5) {
      const length = buffer.readInt32BE(1) + 1
      if (length < 5 || buffer.length < length) break
      if (buffer[0] === 0x41) {
        const channelEnd = buffer.indexOf(0, 9)
        const payloadEnd = buffer.indexOf(0, channelEnd + 1)
        if (channelEnd > 0 && payloadEnd > channelEnd) {
          this.#emit(buffer.toString('utf8', 9, channelEnd), buffer.toString('utf8', channelEnd + 1, payloadEnd))
        }
      }
      buffer = buffer.subarray(length)
    }
    this.#pending = Buffer.from(buffer)
  }
}

const SSL_REQUEST = 80877103
const CANCEL_REQUEST = 80877102

class Connection {
  closed = false
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
    socket.on('close', () => {
      this.closed = true
      void this.#server.disconnected(this)
    })
  }

  write(chunk: Uint8Array) {
    if (this.#socket.writable) this.#socket.write(chunk)
  }

  destroy() {
    this.closed = true
    this.#socket.destroy()
  }

  #onData(data: Buffer) {
    this.#buffer = Buffer.concat([this.#buffer, data])
    for (;;) {
      if (!this.#started) {
        if (this.#buffer.length < 8) return
        const length = this.#buffer.readInt32BE(0)
        if (length < 8 || length > 10_000) return this.destroy() // not PostgreSQL
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
      if (length < 5) return this.destroy() // a corrupt frame: never spin on it
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
      // Not at Flush: the implicit transaction of an extended-protocol exchange lasts until Sync.
      if (type === 'S' || type === 'Q' || type === 'p') {
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
