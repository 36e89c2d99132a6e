import { createHash } from 'node:crypto';
import { Hono, type MiddlewareHandler } from 'hono';
import type { CryptoKey } from 'jose';
import { type Logger, pino } from 'pino';
import { MemoryBus } from './bus/memory-bus.js';
import { resolveConfig, type TokenwardConfig, type TokenwardOptions } from './config.js';
import { ConfigError, isTokenwardError } from './errors.js';
import type { DpopPolicy } from './features/dpop/dpop-verifier.js';
import type { FeatureInstance } from './features/feature.js';
import { FEATURES } from './features/index.js';
import { loadCommonPasswords } from './features/password/common-passwords.js';
import { Argon2Hasher } from './hasher/argon2-hasher.js';
import { sha256Sync } from './kernel/crypto/node-crypto.js';
import { deriveHmacKey, deriveSealKey } from './kernel/crypto/seal.js';
import { Kernel } from './kernel/kernel.js';
import type { KernelDeps } from './kernel/kernel-deps.js';
import { KeyRing } from './kernel/keys/key-ring.js';
import type { AuthEvent, Clock, Limiter, RevocationBus, Session, Store, User } from './kernel/ports.js';
import { describeUserAgent } from './kernel/sessions/device.js';
import type { NewDeviceAlert, NewDeviceHook } from './kernel/sessions/new-device-alert.js';
import { RevocationList } from './kernel/sessions/revocation-list.js';
import { SessionActivity } from './kernel/sessions/session-activity.js';
import { browserClientId, MAX_CLIENT_ID_LENGTH } from './kernel/tokens/client-id.js';
import { VerifiedTokenCache } from './kernel/tokens/verified-token-cache.js';
import { MemoryLimiter } from './limiter/memory-limiter.js';
import type { ServerContext, SessionInfo, TokenwardEnv } from './server/context.js';
import { CookieJar } from './server/cookies.js';
import { type AnyEndpoint, endpointPath, mountEndpoints } from './server/define-endpoint.js';
import { errorResponse, problemResponse } from './server/http.js';
import { Metrics } from './server/metrics.js';
import { type RequireStepUpOptions, requireStepUp } from './server/middleware/require-step-up.js';
import { securityHeaders } from './server/middleware/security-headers.js';
import { authenticateRequest, type RequireSessionOptions, requireSession } from './server/middleware/session.js';
import { loadOrCreateSecret } from './server/secret.js';
import { startupLine } from './server/startup-line.js';
import { artifactStoreFor } from './store/artifacts/index.js';
import { openStore } from './store/index.js';

/** Replaceable parts (tests, custom deployments). Anything omitted is built from the config. */
export interface TokenwardDependencies {
  /** DPoP settings (RFC 9449): proof window, algorithms, required server nonce. */
  dpop?: DpopPolicy;
  store?: Store;
  limiter?: Limiter;
  bus?: RevocationBus | null;
  clock?: Clock;
  logger?: Logger;
  /** Read `TOKENWARD_*` env variables (default: false for the library, true for the CLI/demo). */
  env?: Record<string, string | undefined>;
  /** Options from `tokenward.config.json`. */
  file?: Record<string, unknown>;
  /**
   * Called when a session starts on a device the user never used (send the "was this you?"
   * email with `alert.notMeUrl`). Never awaited by the login; errors are logged. Without it,
   * Tokenward mails the alert itself (template `new-device`, link `/account/not-me?token=…`).
   */
  onNewDevice?: NewDeviceHook;
}

/** A running Tokenward instance. */
export interface Tokenward {
  /** The Hono app: auth routes are mounted; add your own routes to it. */
  app: Hono<TokenwardEnv>;
  /** Web-standard handler `(Request) => Response` (pass `{ ip }` or node-server's env as the second argument). */
  fetch: (request: Request, env?: TokenwardEnv['Bindings']) => Promise<Response>;
  /** Middleware guarding a route with a session (and the CSRF rule for state-changing cookie requests). */
  requireSession: (options?: RequireSessionOptions) => MiddlewareHandler<TokenwardEnv>;
  /**
   * Middleware guarding a sensitive route with step-up: a session, the CSRF rule, and a single-use
   * step-up grant (from `POST {basePath}/step-up`) consumed atomically; else 401 `step_up_required` (RFC 9470).
   */
  requireStepUp: (options?: RequireStepUpOptions) => MiddlewareHandler<TokenwardEnv>;
  /** The problem+json response for an error thrown by Tokenward middleware (used by framework adapters). */
  errorResponse: (error: unknown) => Response;
  config: TokenwardConfig;
  /**
   * Tokenward's internals (kernel, store, limiter, …), for Tokenward's own adapters and tests.
   * @internal Not a stable API: it changes without notice.
   */
  context: ServerContext;
  /** Every endpoint the enabled features mounted (method, full path, guard kind): the contract as data. */
  endpoints: ReadonlyArray<{ method: string; path: string; guard: string }>;
  /** Stops background work and closes the store, limiter and bus. */
  close: () => Promise<void>;
}

// 57014: statement timeout (a stalled database), 57P0x: server shutting down / restarting, 08xxx: connection.
const DB_UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '08000',
  '08003',
  '08006',
  '08001',
  '08004',
  'SQLITE_BUSY',
  'SQLITE_LOCKED',
]);

/**
 * The limiter and revocation bus: Redis-backed (shared by every node) when `redisUrl` is set,
 * else in-process; explicit dependencies win. A Redis that is down at start does not stop the
 * node: it starts degraded (per-node limits, revocations by polling) and recovers by itself.
 */
async function openSharedState(
  config: TokenwardConfig,
  deps: TokenwardDependencies,
  clock: Clock,
  logger: Logger,
): Promise<{ limiter: Limiter; bus: RevocationBus | null }> {
  const redisUrl = config.redisUrl;
  const wantsLimiter = deps.limiter === undefined;
  const wantsBus = deps.bus === undefined;
  if (redisUrl === undefined || (!wantsLimiter && !wantsBus)) {
    return {
      limiter: deps.limiter ?? new MemoryLimiter(clock),
      bus: deps.bus === undefined ? new MemoryBus() : deps.bus,
    };
  }
  // Loaded only when configured, so the embedded mode never loads ioredis.
  const [{ RedisLimiter }, { RedisBus }] = await Promise.all([
    import('./limiter/redis-limiter.js'),
    import('./bus/redis-bus.js'),
  ]);
  const redisLimiter = wantsLimiter ? new RedisLimiter({ url: redisUrl, logger, clock }) : undefined;
  const redisBus = wantsBus ? new RedisBus({ url: redisUrl, logger }) : undefined;
  const ready = await Promise.all([redisLimiter?.ready(2000) ?? true, redisBus?.ready(2000) ?? true]);
  if (ready.includes(false))
    logger.warn(
      {},
      'redis is not reachable at start: limits count per node and revocations travel by polling until it is',
    );
  return { limiter: redisLimiter ?? (deps.limiter as Limiter), bus: redisBus ?? (deps.bus as RevocationBus | null) };
}

function isUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && DB_UNAVAILABLE_CODES.has(e.code)) return true;
  return (
    typeof e.message === 'string' &&
    /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(
      e.message,
    )
  );
}

/**
 * Creates a Tokenward server: validates the configuration (throws {@link ConfigError} naming the
 * option), opens the store, loads or creates signing keys, and mounts the auth routes.
 *
 * @example
 * ```ts
 * const tw = await createTokenward({ publicOrigin: 'https://app.example.com' });
 * tw.app.get('/api/profile', tw.requireSession(), (c) => c.json({ user: c.get('tokenward').userId }));
 * serve({ fetch: tw.fetch, port: 3000 });
 * ```
 */
export async function createTokenward(
  options: TokenwardOptions = {},
  deps: TokenwardDependencies = {},
): Promise<Tokenward> {
  const config = resolveConfig(options, { env: deps.env ?? {}, file: deps.file ?? {} });
  const logger = deps.logger ?? pino({ level: config.logLevel, base: null });
  const clock: Clock = deps.clock ?? { now: () => Date.now() };
  const embedded = deps.store === undefined && config.databaseUrl === undefined;
  const { secret } = loadOrCreateSecret({
    secret: config.secret,
    dataDir: config.dataDir,
    embedded: embedded || deps.store !== undefined,
  });
  if (config.insecureHttp) {
    logger.warn(
      { publicOrigin: config.publicOrigin },
      'insecureHttp is on: cookies are sent without Secure and without __Host-/__Secure- prefixes; use only on a trusted private network',
    );
  }

  const store = deps.store ?? (await openConfiguredStore(config));
  const { limiter, bus } = await openSharedState(config, deps, clock, logger);
  // Every key is derived from the server secret with its own purpose (HKDF), features' included.
  const deriveKey = (kind: 'seal' | 'hmac', purpose: string): Promise<CryptoKey> =>
    kind === 'seal' ? deriveSealKey(secret, purpose) : deriveHmacKey(secret, purpose);
  const [sealKey, csrfKey, pendingLoginKey, refreshKey] = await Promise.all([
    deriveKey('seal', 'key-encryption'),
    deriveKey('hmac', 'csrf'),
    deriveKey('seal', 'pending-login'),
    deriveKey('hmac', 'refresh-token'),
  ]);
  const keys = new KeyRing({ store, sealKey, algorithm: config.algorithm, clock, accessTtlSec: config.accessTtlSec });
  try {
    await keys.load();
  } catch (error) {
    await store.close();
    throw new ConfigError(`Cannot load signing keys: ${(error as Error).message}`);
  }
  const revocations = new RevocationList(config.accessTtlSec);
  const metrics = new Metrics();
  const cookies = new CookieJar(config);
  const kernelDeps: KernelDeps = {
    store,
    limiter,
    bus,
    hasher: new Argon2Hasher({ concurrency: config.hashConcurrency }),
    keys,
    revocations,
    cache: new VerifiedTokenCache(),
    clock,
    csrfKey,
    refreshKey,
    // SHA-256 of the exact token string (one-shot crypto.hash where Node has it: ≈ half the cost).
    cacheKey: (token) => sha256Sync(token) ?? createHash('sha256').update(token).digest('base64url'),
    onEvent: (event) => {
      metrics.authEvents.inc({ type: event.type });
      logger.info({ event: event.type, userId: event.userId, sessionId: event.sessionId, ip: event.ip }, 'auth event');
      for (const listen of eventListeners) {
        try {
          listen(event);
        } catch (error) {
          logger.error({ err: (error as Error)?.message, event: event.type }, 'event listener failed');
        }
      }
    },
    describeDevice: (userAgent) => describeUserAgent(userAgent).label,
    onNewDevice: (user, session) => {
      for (const notify of newDeviceListeners) notify(user, session);
    },
    policy: {
      issuer: config.publicOrigin,
      audience: config.publicOrigin,
      browserClientId: browserClientId(config.publicOrigin),
      accessTtlSec: config.accessTtlSec,
      refreshGraceSec: config.refreshGraceSec,
      refreshIdleSec: config.refreshIdleSec,
      refreshAbsoluteSec: config.refreshAbsoluteSec,
      limits: config.limits,
      requireMfa: config.requireMfa,
    },
    factors: [],
    gates: [],
    cacheState: { version: -1 },
  };
  const newDeviceListeners: Array<(user: User, session: Session) => void> = [];
  const eventListeners: Array<(event: AuthEvent) => void> = [];
  const artifacts = artifactStoreFor(store);
  const kernel = new Kernel(kernelDeps);
  const ctx: ServerContext = {
    config,
    kernel,
    store,
    artifacts,
    limiter,
    bus,
    keys,
    cookies,
    csrfKey,
    clock,
    logger,
    metrics,
    activity: new SessionActivity({ store, clock, logger }),
    pendingLoginKey,
    deriveKey,
    dpop: null,
    stepUp: null,
    mailer: null,
    stepUpMethods: [],
    grants: new Map(),
    accountExports: [],
    sessionAnswerMembers: [],
    dependencies: { ...deps },
  };

  // The features: each enabled one is loaded (lazily: a disabled one's libraries are never
  // imported) and set up in order; what they add is registered with the kernel and the app.
  const endpoints: AnyEndpoint[] = [];
  const instances: FeatureInstance[] = [];
  for (const feature of FEATURES) {
    if (!feature.enabled(config)) continue;
    const instance: FeatureInstance = await (await feature.load()).setup(ctx);
    instances.push(instance);
    endpoints.push(...(instance.endpoints ?? []));
    kernelDeps.factors.push(...(instance.factors ?? []));
    kernelDeps.gates.push(...(instance.loginGates ?? []));
    ctx.stepUpMethods.push(...(instance.stepUpMethods ?? []));
    if (instance.onNewDevice) newDeviceListeners.push(instance.onNewDevice);
    if (instance.exportAccount) ctx.accountExports.push(instance.exportAccount);
    if (instance.onEvent) eventListeners.push(instance.onEvent);
  }
  await checkCookieBudget(ctx);

  // Revocations recorded by other nodes (or other processes on the same store) reach this node
  // through the bus and, as a fallback, by polling the store every 500 ms.
  const now = clock.now();
  for (const r of await store.listRevocationsSince(now - (config.accessTtlSec + 60) * 1000))
    revocations.add(r.sessionId, r.at);
  const unsubscribe = bus?.subscribe((list) => {
    for (const r of list) revocations.add(r.sessionId, r.at);
  });
  let pollFrom = now;
  let polling = false;
  const timers = [
    setInterval(async () => {
      if (polling) return;
      polling = true;
      try {
        const t = clock.now();
        for (const r of await store.listRevocationsSince(pollFrom - 2000)) revocations.add(r.sessionId, r.at);
        pollFrom = t;
        revocations.sweep(t);
        metrics.revokedSessions.set(revocations.size);
      } catch (error) {
        logger.debug({ err: (error as Error).message }, 'revocation poll failed');
      } finally {
        polling = false;
      }
    }, 500),
    setInterval(() => {
      keys.reload().catch((error: Error) => logger.warn({ err: error.message }, 'signing key reload failed'));
    }, 10_000),
    setInterval(() => {
      store
        .prune(clock.now() - config.eventsRetentionSec * 1000)
        .catch((error: Error) => logger.warn({ err: error.message }, 'prune failed'));
      // Spent and expired links and challenges are useless a day after they expire.
      artifacts
        .prune(clock.now() - 86_400_000)
        .catch((error: Error) => logger.warn({ err: error.message }, 'artifact prune failed'));
    }, 3600_000),
  ];
  for (const t of timers) t.unref();

  const app = new Hono<TokenwardEnv>();
  app.use('*', securityHeaders(config));
  const toErrorResponse = (error: unknown): Response => {
    if (isTokenwardError(error)) return errorResponse(error);
    if (isUnavailable(error)) {
      logger.error({ err: (error as Error).message }, 'store unavailable');
      return problemResponse('service_unavailable');
    }
    logger.error({ err: error }, 'unhandled error');
    return problemResponse('internal_error');
  };
  app.onError(toErrorResponse);
  app.notFound(() => problemResponse('not_found'));
  mountEndpoints(app, ctx, endpoints);
  // The same one line `tokenward serve` prints (where it listens is the app's to say).
  logger.info(startupLine({ config }));

  let closed = false;
  return {
    app,
    fetch: (request, env) => Promise.resolve(app.fetch(request, (env ?? {}) as TokenwardEnv['Bindings'])),
    requireSession: (opts) => requireSession(ctx, opts),
    requireStepUp: (opts) => requireStepUp(ctx, opts),
    errorResponse: toErrorResponse,
    config,
    context: ctx,
    endpoints: endpoints.map((e) => ({ method: e.method, path: endpointPath(ctx, e), guard: e.guard })),
    close: async () => {
      if (closed) return;
      closed = true;
      for (const t of timers) clearInterval(t);
      unsubscribe?.();
      await Promise.allSettled(instances.map((i) => i.close?.()));
      await Promise.allSettled([store.close(), limiter.close(), bus?.close()]);
    },
  };
}

/** Opens the configured store; a failure names the option to look at (the URL's password is never printed). */
async function openConfiguredStore(config: TokenwardConfig): Promise<Store> {
  try {
    return await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl, migrate: config.autoMigrate });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const where = config.databaseUrl
      ? `the PostgreSQL database of databaseUrl (env TOKENWARD_DATABASE_URL, host ${safeHost(config.databaseUrl)})`
      : `the embedded store in dataDir (env TOKENWARD_DATA_DIR, ${config.dataDir})`;
    throw new ConfigError(`Cannot open ${where}: ${(error as Error).message}`);
  }
}

function safeHost(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'unparsable URL';
  }
}

/**
 * Worst-case cookie sizes with the configured claims; refuses to start above 4096 bytes. The
 * worst access token has the longest `amr`, a DPoP `cnf`, and the longest `client_id` a session
 * can hold: an `/auth/token` client's (up to 128 characters; its refresh token can be presented
 * through the cookie transport too) or the browser client's, whichever is longer.
 */
async function checkCookieBudget(ctx: ServerContext): Promise<void> {
  const fakeSession = {
    id: crypto.randomUUID(),
    userId: crypto.randomUUID(),
    createdAt: 0,
    lastActiveAt: 0,
    idleExpiresAt: 0,
    absoluteExpiresAt: Date.now() + 86400_000,
    authTime: Date.now(),
    // The longest amr a login produces: a password and a passkey at the second step.
    amr: ['pwd', 'swk', 'user', 'mfa'],
    revokedAt: null,
    revokeReason: null,
    ip: '',
    userAgent: '',
    deviceId: null,
    newDevice: false,
    dpopJkt: null,
    clientId: 'x'.repeat(Math.max(MAX_CLIENT_ID_LENGTH, browserClientId(ctx.config.publicOrigin).length)),
  };
  const { accessToken } = await ctx.kernel.issueAccessToken(fakeSession, { cnf: { jkt: 'x'.repeat(43) } });
  const worst = ctx.cookies.serialize('at', accessToken, ctx.config.refreshAbsoluteSec).length;
  if (worst > 4096) {
    throw new ConfigError(
      `Cookie budget exceeded: the access-token cookie can reach ${worst} bytes (> 4096); shorten publicOrigin or use EdDSA/ES256`,
    );
  }
}

export type { NewDeviceAlert, NewDeviceHook, RequireStepUpOptions, SessionInfo };
export { authenticateRequest, loadCommonPasswords };
