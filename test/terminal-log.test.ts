import { describe, expect, it } from 'vitest'
import { createLogger, terminalDestination, terminalLine } from '../src/lib/logger.ts'

describe('terminal log lines (issue 24: the sign-in line must not scroll away under request logs)', () => {
  it('leaves out routine requests and keeps failed and slow ones, readable', () => {
    const at = new Date('2030-01-01T12:34:56').getTime()
    expect(
      terminalLine(JSON.stringify({ level: 30, time: at, msg: 'incoming request', req: { method: 'GET' } })),
    ).toBeNull()
    expect(
      terminalLine(
        JSON.stringify({ level: 30, time: at, msg: 'request completed', res: { statusCode: 200 }, responseTime: 3.2 }),
      ),
    ).toBeNull()
    expect(
      terminalLine(
        JSON.stringify({
          level: 30,
          time: at,
          pid: 1,
          hostname: 'h',
          reqId: 'req-7',
          msg: 'request completed',
          req: { method: 'POST', url: '/api/x' },
          res: { statusCode: 422 },
          responseTime: 12.4,
        }),
      ),
    ).toBe('12:34:56 INFO  request completed (POST /api/x, → 422, 12 ms, req=req-7)')
    expect(terminalLine(JSON.stringify({ level: 40, time: at, msg: 'Graph throttled', tenant: 't1' }))).toBe(
      '12:34:56 WARN  Graph throttled (tenant=t1)',
    )
    expect(terminalLine('not json')).toBe('not json')
  })

  it('is a pino destination that still redacts secrets', () => {
    const out: string[] = []
    const logger = createLogger('info', terminalDestination({ write: (text: string) => out.push(text) }))
    logger.warn({ client_secret: 's3cret', tenant: 't1' }, 'connection failed')
    logger.info({ msg: 'x' }, 'incoming request')
    expect(out).toHaveLength(1)
    expect(out[0]).toContain('WARN  connection failed')
    expect(out[0]).not.toContain('s3cret')
  })
})
