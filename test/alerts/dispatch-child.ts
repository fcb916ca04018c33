/**
 * An alert dispatcher in its own process, for the crash test: it sends the test database's due
 * deliveries with the test's secret key, and is SIGKILLed while sends are in flight.
 */
import { openPostgres } from '../../src/db/engine.ts'
import { SecretBox } from '../../src/lib/crypto.ts'
import { createLogger } from '../../src/lib/logger.ts'
import { AlertDispatcher, DISPATCHER_DEFAULTS } from '../../src/modules/alerts/dispatcher.ts'

const handle = openPostgres(process.env.TA_TEST_DATABASE_URL!, 4)
const dispatcher = new AlertDispatcher(
  handle.db,
  new SecretBox(Buffer.from(process.env.TA_TEST_APP_KEY!, 'base64')),
  createLogger('silent'),
  {
    ...DISPATCHER_DEFAULTS,
    consoleUrl: 'https://atlas.example.com',
    mail: undefined,
    intervalMs: 50,
    // The receiver never answers this process: its sends are in flight when it is killed.
    timeoutMs: 60_000,
    leaseSeconds: 1,
    concurrency: 4,
  },
)
dispatcher.start()
process.stdout.write('ready\n')
// The dispatcher's timers do not hold a process open (a worker's queue and listener do): this one does.
setInterval(() => {}, 60_000)
