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
  ENTRA_CLIENT_ID: z.string().min(1).optional(),
  ENTRA_CLIENT_SECRET: z.string().min(1).optional(),
  ENTRA_TENANT_ID: z.string().min(1).optional(),
  ENTRA_CLOUD: z.enum(['global', 'usgov', 'usgovdod', 'china', 'emulator']).default('global'),
  ENTRA_ROLE_CHECK_MINUTES: z.coerce.number().int().min(1).max(1440).default(60),
  STEP_UP_MAX_AGE_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  STEP_UP_ACRS: z.string().min(1).optional(),
  PASSWORD_SIGN_IN: z.enum(['on', 'off']).default('on'),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  MAIL_FROM: z.string().min(3).optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
})

/** Sign-in with Microsoft Entra ID (README, "Sign in with Microsoft"; ADR 028); absent when ENTRA_CLIENT_ID is not set. */
export type EntraConfig = {
  clientId: string
  clientSecret: string
  /** One directory id, or several (then the `organizations` authority and only these tenants' people get in). */
  tenantIds: string[]
  cloud: 'global' | 'usgov' | 'usgovdod' | 'china' | 'emulator'
  /** How often a live session's roles are read from Entra again. */
  roleCheckMinutes: number
  /** Destructive actions need an authentication this recent… */
  stepUpMaxAgeMinutes: number
  /** …or, when set, this Conditional Access authentication context in the id token's `acrs`. */
  stepUpAcrs: string | undefined
}

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
  entra: EntraConfig | undefined
  /** `off`: only Microsoft sign-in (and break-glass accounts) once an Entra admin exists. */
  passwordSignIn: 'on' | 'off'
  /** E-mail alert channels send through this server (ADR 030). */
  mail: { smtpUrl: string; from: string } | undefined
  /** `GET /metrics` answers a request bearing this token (ADR 030); unset: only on METRICS_PORT, if set. */
  metricsToken: string | undefined
  /** `GET /metrics` without a token on this port, for a scraper on a private network. */
  metricsPort: number | undefined
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
    entra: entraConfig(e),
    passwordSignIn: e.PASSWORD_SIGN_IN,
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
    mail: mailConfig(e),
    metricsToken: e.METRICS_TOKEN,
    metricsPort: e.METRICS_PORT,
  }
}

function mailConfig(e: z.infer<typeof envSchema>): Config['mail'] {
  if (!e.SMTP_URL && !e.MAIL_FROM) return undefined
  if (!e.SMTP_URL || !e.MAIL_FROM)
    throw new ConfigError('SMTP_URL and MAIL_FROM go together: the SMTP server and the sender of alert e-mails')
  return { smtpUrl: e.SMTP_URL, from: e.MAIL_FROM }
}

const DIRECTORY_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

function entraConfig(e: z.infer<typeof envSchema>): EntraConfig | undefined {
  if (!e.ENTRA_CLIENT_ID) {
    if (e.ENTRA_CLIENT_SECRET || e.ENTRA_TENANT_ID)
      throw new ConfigError(
        "ENTRA_CLIENT_SECRET and ENTRA_TENANT_ID need ENTRA_CLIENT_ID (the app registration's client id)",
      )
    return undefined
  }
  if (!e.ENTRA_CLIENT_SECRET)
    throw new ConfigError(
      'ENTRA_CLIENT_SECRET is required with ENTRA_CLIENT_ID: a client secret of the app registration',
    )
  const tenantIds = (e.ENTRA_TENANT_ID ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
  if (tenantIds.length === 0)
    throw new ConfigError(
      'ENTRA_TENANT_ID is required with ENTRA_CLIENT_ID: the directory (tenant) id people sign in from, or a comma-separated list',
    )
  const bad = tenantIds.find((t) => !DIRECTORY_ID.test(t))
  if (bad) throw new ConfigError(`ENTRA_TENANT_ID: ${bad} is not a directory id (a GUID, as Entra shows it)`)
  // openid-client checks a multi-tenant issuer ({tenantid}) only on Microsoft's global host (and the emulator, which speaks as it).
  if (tenantIds.length > 1 && e.ENTRA_CLOUD !== 'global' && e.ENTRA_CLOUD !== 'emulator')
    throw new ConfigError(
      `ENTRA_TENANT_ID: a list of tenants needs ENTRA_CLOUD=global; the ${e.ENTRA_CLOUD} cloud takes one`,
    )
  // ENTRA_CLOUD=emulator signs in at GRAPH_EMULATOR_URL, or at the emulator `serve` starts in-process.
  return {
    clientId: e.ENTRA_CLIENT_ID,
    clientSecret: e.ENTRA_CLIENT_SECRET,
    tenantIds: tenantIds.map((t) => t.toLowerCase()),
    cloud: e.ENTRA_CLOUD,
    roleCheckMinutes: e.ENTRA_ROLE_CHECK_MINUTES,
    stepUpMaxAgeMinutes: e.STEP_UP_MAX_AGE_MINUTES,
    stepUpAcrs: e.STEP_UP_ACRS,
  }
}
