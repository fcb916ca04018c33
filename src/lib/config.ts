import path from 'node:path'
import { z } from 'zod'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const envSchema = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  APP_KEY: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  GRAPH_EMULATOR_URL: z.url().optional(),
  PUBLIC_URL: z.url().optional(),
  RUN_RETENTION_DAYS: z.coerce.number().int().min(1).max(36500).default(180),
  QUICK_SYNC_FULL_READ_DAYS: z.coerce.number().int().min(1).max(3650).default(7),
  TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
})

/** Every environment variable the configuration reads (test/docs.test.ts: the README and the CLI's help name each). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape)

export type Config = {
  databaseUrl: string | undefined
  dataDir: string
  port: number
  host: string
  appKey: string | undefined
  logLevel: (typeof logLevels)[number]
  graphEmulatorUrl: string | undefined
  /** Origins allowed to make cookie-authenticated mutating requests besides the request's own. */
  publicUrl: string | undefined
  trustProxy: boolean
  /** Completed operation runs are kept this long (days). */
  runRetentionDays: number
  /** A quick sync reads a type in full when its last full read is older than this many days. */
  quickSyncFullReadDays: number
}

export class ConfigError extends Error {
  override name = 'ConfigError'
}

/** Reads the environment once, at the edge; the rest of the code receives a Config. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''))
  const parsed = envSchema.safeParse(cleaned)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new ConfigError(
      `Invalid environment variable ${String(issue?.path[0] ?? '')}: ${issue?.message ?? 'invalid'}`,
    )
  }
  const e = parsed.data
  return {
    databaseUrl: e.DATABASE_URL,
    dataDir: path.resolve(e.DATA_DIR),
    port: e.PORT,
    host: e.HOST,
    appKey: e.APP_KEY,
    logLevel: e.LOG_LEVEL,
    graphEmulatorUrl: e.GRAPH_EMULATOR_URL,
    publicUrl: e.PUBLIC_URL,
    trustProxy: e.TRUST_PROXY,
    runRetentionDays: e.RUN_RETENTION_DAYS,
    quickSyncFullReadDays: e.QUICK_SYNC_FULL_READ_DAYS,
  }
}
