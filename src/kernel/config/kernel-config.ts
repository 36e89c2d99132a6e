import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { SIGNING_ALGORITHMS, type SigningAlgorithm } from '../tokens/access-token.js';
import { bool, duration, int, list, rate } from './option-types.js';

/**
 * The kernel's options (sessions, tokens, cookies, limits, stores): one zod field each. Features
 * add their own slices next to these (src/config.ts assembles them); the resolved type below is
 * derived from this schema, never written twice.
 */
export const kernelOptionShape = {
  port: int(0).pipe(z.number().max(65535)).default(3000),
  publicOrigin: z.string().optional(),
  trustedOrigins: z.union([z.array(z.string()), z.string()]).default([]),
  basePath: z
    .string()
    .regex(/^\/[A-Za-z0-9/_-]*[A-Za-z0-9_-]$/, 'basePath must look like "/auth"')
    .default('/auth'),
  dataDir: z.string().min(1).default('./.tokenward'),
  databaseUrl: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'databaseUrl must start with postgres://')
    .optional(),
  /**
   * PostgreSQL: apply pending migrations when the server starts (several nodes starting at once
   * are serialised by the migration lock). Off by default: an unmigrated database is refused.
   * The embedded store always migrates itself.
   */
  autoMigrate: bool.default(false),
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\//, 'redisUrl must start with redis:// or rediss://')
    .optional(),
  secret: z.string().min(32, 'secret must be at least 32 characters (32+ random bytes, e.g. base64)').optional(),
  accessTtl: duration('accessTtl').default(600),
  refreshGrace: duration('refreshGrace').default(10),
  refreshIdle: duration('refreshIdle').default(14 * 86400),
  refreshAbsolute: duration('refreshAbsolute').default(30 * 86400),
  stepUpTtl: duration('stepUpTtl').default(300),
  eventsRetention: duration('eventsRetention').default(90 * 86400),
  limitLoginPerAccount: int(1).default(5),
  limitLoginBackoffMax: duration('limitLoginBackoffMax').default(900),
  limitLoginPerIp: rate('limitLoginPerIp').default({ count: 100, windowSec: 900 }),
  limitSignupPerIp: rate('limitSignupPerIp').default({ count: 20, windowSec: 3600 }),
  limitConcurrentSessions: int(1).default(20),
  ipPrefixV6: int(16).pipe(z.number().max(128)).default(64),
  ipPrefixV6Wide: int(8).pipe(z.number().max(128)).optional(),
  cookies: z
    .object({
      split: bool.default(false),
      domain: z
        .string()
        .regex(/^[a-z0-9.-]+$/i, 'cookies.domain must be a host name')
        .optional(),
    })
    .default({ split: false }),
  insecureHttp: bool.default(false),
  trustProxy: int(0).default(0),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  algorithm: z.enum(SIGNING_ALGORITHMS as [SigningAlgorithm, ...SigningAlgorithm[]]).default('EdDSA'),
  clearSiteData: z.string().default('"cache", "storage"'),
  // One core stays with the event loop: with every core hashing, a login storm stalls protected
  // routes for tens of ms (bench/README.md, login storm).
  hashConcurrency: int(1).default(Math.max(1, availableParallelism() - 1)),
  serviceTokens: list
    .pipe(z.array(z.string().min(32, 'serviceTokens must each be at least 32 characters')))
    .default([]),
  /**
   * A full session needs a second factor (TOTP or a passkey): a login that proved none gets a
   * restricted session that can only enrol one (403 `mfa_enrollment_required` elsewhere).
   */
  requireMfa: bool.default(false),
};

/** Environment variable → kernel option path (TOKENWARD_<UPPER_SNAKE_OPTION>). */
export const KERNEL_ENV_NAMES: Readonly<Record<string, string>> = {
  PORT: 'port',
  TOKENWARD_PORT: 'port',
  TOKENWARD_PUBLIC_ORIGIN: 'publicOrigin',
  TOKENWARD_TRUSTED_ORIGINS: 'trustedOrigins',
  TOKENWARD_BASE_PATH: 'basePath',
  TOKENWARD_DATA_DIR: 'dataDir',
  TOKENWARD_DATABASE_URL: 'databaseUrl',
  TOKENWARD_AUTO_MIGRATE: 'autoMigrate',
  TOKENWARD_REDIS_URL: 'redisUrl',
  TOKENWARD_SECRET: 'secret',
  TOKENWARD_ACCESS_TTL: 'accessTtl',
  TOKENWARD_REFRESH_GRACE: 'refreshGrace',
  TOKENWARD_REFRESH_IDLE: 'refreshIdle',
  TOKENWARD_REFRESH_ABSOLUTE: 'refreshAbsolute',
  TOKENWARD_STEP_UP_TTL: 'stepUpTtl',
  TOKENWARD_EVENTS_RETENTION: 'eventsRetention',
  TOKENWARD_LIMIT_LOGIN_PER_ACCOUNT: 'limitLoginPerAccount',
  TOKENWARD_LIMIT_LOGIN_BACKOFF_MAX: 'limitLoginBackoffMax',
  TOKENWARD_LIMIT_LOGIN_PER_IP: 'limitLoginPerIp',
  TOKENWARD_LIMIT_SIGNUP_PER_IP: 'limitSignupPerIp',
  TOKENWARD_LIMIT_CONCURRENT_SESSIONS: 'limitConcurrentSessions',
  TOKENWARD_IP_PREFIX_V6: 'ipPrefixV6',
  TOKENWARD_IP_PREFIX_V6_WIDE: 'ipPrefixV6Wide',
  TOKENWARD_COOKIES_SPLIT: 'cookies.split',
  TOKENWARD_COOKIES_DOMAIN: 'cookies.domain',
  TOKENWARD_INSECURE_HTTP: 'insecureHttp',
  TOKENWARD_TRUST_PROXY: 'trustProxy',
  TOKENWARD_LOG_LEVEL: 'logLevel',
  TOKENWARD_ALGORITHM: 'algorithm',
  TOKENWARD_CLEAR_SITE_DATA: 'clearSiteData',
  TOKENWARD_HASH_CONCURRENCY: 'hashConcurrency',
  TOKENWARD_SERVICE_TOKENS: 'serviceTokens',
  TOKENWARD_REQUIRE_MFA: 'requireMfa',
};

/** The parsed (defaults applied) kernel options. */
export type KernelOptions = z.output<z.ZodObject<typeof kernelOptionShape>>;

function originOf(value: string, option: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${option}: "${value}" is not a URL origin like https://app.example.com`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    throw new ConfigError(`${option}: must be http(s), got ${url.protocol}`);
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    throw new ConfigError(`${option}: must be an origin only (scheme://host[:port]), got "${value}"`);
  }
  return url.origin;
}

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * Checks the rules between kernel options and derives the resolved kernel configuration
 * (origins parsed, lifetimes in seconds, limits grouped). Throws {@link ConfigError} with one line
 * naming the option and its environment variable (`envNameFor`).
 */
export function resolveKernelConfig(o: KernelOptions, envNameFor: (path: string) => string) {
  const publicOrigin = originOf(
    o.publicOrigin ?? `http://localhost:${o.port}`,
    `publicOrigin${envNameFor('publicOrigin')}`,
  );
  const url = new URL(publicOrigin);
  const trustedList = Array.isArray(o.trustedOrigins) ? o.trustedOrigins : o.trustedOrigins.split(',');
  const trustedOrigins = trustedList
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => originOf(s, `trustedOrigins${envNameFor('trustedOrigins')}`));
  const loopback = LOOPBACK_HOSTS.has(url.hostname);
  if (o.insecureHttp) {
    if (url.protocol !== 'http:' || loopback) {
      throw new ConfigError(
        `Invalid configuration: insecureHttp (env TOKENWARD_INSECURE_HTTP) is only allowed with a plain http: public origin that is not localhost; ${publicOrigin} ${url.protocol === 'https:' ? 'is https' : 'is localhost, where secure cookies already work'}`,
      );
    }
  } else if (url.protocol === 'http:' && !loopback) {
    throw new ConfigError(
      `Invalid configuration: publicOrigin${envNameFor('publicOrigin')}: ${publicOrigin} is plain http; use https, http://localhost, or set insecureHttp (TOKENWARD_INSECURE_HTTP=true) for a trusted private network`,
    );
  }
  const domain = o.cookies.domain?.toLowerCase().replace(/^\./, '');
  if (domain !== undefined) {
    if (o.insecureHttp)
      throw new ConfigError('Invalid configuration: cookies.domain cannot be combined with insecureHttp');
    if (url.hostname !== domain && !url.hostname.endsWith(`.${domain}`)) {
      throw new ConfigError(
        `Invalid configuration: cookies.domain (env TOKENWARD_COOKIES_DOMAIN): "${domain}" is not ${url.hostname} or a parent of it`,
      );
    }
    if (!domain.includes('.'))
      throw new ConfigError(
        `Invalid configuration: cookies.domain: "${domain}" must be a registrable domain like example.com`,
      );
  }
  if (o.accessTtl < 10 || o.accessTtl > 86400)
    throw new ConfigError('Invalid configuration: accessTtl (env TOKENWARD_ACCESS_TTL): must be between 10s and 24h');
  if (o.refreshIdle < 60)
    throw new ConfigError('Invalid configuration: refreshIdle (env TOKENWARD_REFRESH_IDLE): must be at least 60s');
  if (o.refreshAbsolute < 60)
    throw new ConfigError(
      'Invalid configuration: refreshAbsolute (env TOKENWARD_REFRESH_ABSOLUTE): must be at least 60s',
    );
  if (o.refreshGrace > 60)
    throw new ConfigError(
      'Invalid configuration: refreshGrace (env TOKENWARD_REFRESH_GRACE): must be at most 60s (0 disables)',
    );
  if (o.stepUpTtl < 1 || o.stepUpTtl > 300)
    throw new ConfigError('Invalid configuration: stepUpTtl (env TOKENWARD_STEP_UP_TTL): must be between 1s and 300s');
  if (o.ipPrefixV6Wide !== undefined && o.ipPrefixV6Wide >= o.ipPrefixV6) {
    throw new ConfigError(
      `Invalid configuration: ipPrefixV6Wide (env TOKENWARD_IP_PREFIX_V6_WIDE): must be a shorter prefix than ipPrefixV6 (${o.ipPrefixV6})`,
    );
  }
  if (o.databaseUrl && !o.secret) {
    throw new ConfigError(
      'Invalid configuration: secret (env TOKENWARD_SECRET) is required with databaseUrl (PostgreSQL): every node must share it',
    );
  }
  return {
    port: o.port,
    publicOrigin,
    publicHost: url.hostname,
    trustedOrigins,
    basePath: o.basePath,
    dataDir: resolve(o.dataDir),
    databaseUrl: o.databaseUrl,
    autoMigrate: o.autoMigrate,
    redisUrl: o.redisUrl,
    secret: o.secret,
    accessTtlSec: o.accessTtl,
    refreshGraceSec: o.refreshGrace,
    refreshIdleSec: o.refreshIdle,
    refreshAbsoluteSec: o.refreshAbsolute,
    stepUpTtlSec: o.stepUpTtl,
    eventsRetentionSec: o.eventsRetention,
    limits: {
      loginPerAccount: o.limitLoginPerAccount,
      loginBackoffMaxSec: o.limitLoginBackoffMax,
      loginPerIp: o.limitLoginPerIp,
      signupPerIp: o.limitSignupPerIp,
      concurrentSessions: o.limitConcurrentSessions,
      ipv6Prefix: o.ipPrefixV6,
      ipv6WidePrefix: o.ipPrefixV6Wide ?? null,
    },
    cookies: { split: o.cookies.split, domain },
    insecureHttp: o.insecureHttp,
    secureCookies: !o.insecureHttp,
    trustProxy: o.trustProxy,
    logLevel: o.logLevel,
    algorithm: o.algorithm,
    clearSiteData: o.clearSiteData,
    hashConcurrency: o.hashConcurrency,
    serviceTokens: o.serviceTokens,
    requireMfa: o.requireMfa,
  };
}

/** The resolved kernel configuration (derived from {@link kernelOptionShape}). */
export type KernelConfig = ReturnType<typeof resolveKernelConfig>;
