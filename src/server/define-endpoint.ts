import type { Context, Hono } from 'hono';
import type { z } from 'zod';
import { ConfigError, TokenwardError } from '../errors.js';
import type { RequestContext } from '../kernel/request-context.js';
import { parseBody } from './body-schema.js';
import type { ServerContext, SessionInfo, TokenwardEnv } from './context.js';
import { discardBody, readJsonObject } from './http.js';
import { enforceCsrf } from './middleware/csrf.js';
import { withStepUp } from './middleware/require-step-up.js';
import { refreshBindings, signedIn } from './middleware/signed-in.js';
import { requestContext } from './request-context.js';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Who may call an endpoint, and so which CSRF rule and authentication apply (API.md "CSRF rule"):
 * - `none`: no authentication and no CSRF rule (JWKS, health, the token endpoint, a link's token is its own credential);
 * - `anonymous`: login CSRF — the rule applies even without cookies (signup, login, second login step);
 * - `refresh-cookie`: authenticated by the refresh cookie (refresh, logout): the rule applies, and
 *   cross-site requests without cookies are refused too (they would clear the victim's cookies);
 * - `session`: a valid access token, and the rule for state-changing cookie requests;
 * - `step-up`: `session` plus a single-use step-up grant, consumed only when the handler answers 2xx;
 * - `service-token`: `Authorization: Bearer` with one of `serviceTokens` (other services).
 */
export type GuardKind = 'none' | 'anonymous' | 'refresh-cookie' | 'session' | 'step-up' | 'service-token';

/**
 * How the body is read: a zod schema for a JSON object (415/413/400 as API.md says), `none` for
 * endpoints without a body (size still capped), `raw` when the handler reads it itself.
 */
export type BodySpec = z.ZodType | 'none' | 'raw';

type BodyOf<B> = B extends z.ZodType ? z.output<B> : undefined;
type SessionOf<G extends GuardKind> = G extends 'session' | 'step-up' ? SessionInfo : null;

/** What a handler receives: the request, its validated body, its origin and (guarded) session. */
export interface EndpointInput<B extends BodySpec, G extends GuardKind> {
  c: Context<TokenwardEnv>;
  body: BodyOf<B>;
  rc: RequestContext;
  session: SessionOf<G>;
}

/** One endpoint of the contract, as data: the adapters' path list and the docs check read it. */
export interface Endpoint<B extends BodySpec = BodySpec, G extends GuardKind = GuardKind> {
  method: HttpMethod;
  /** Relative to the base path (`/login` → `/auth/login`), unless `absolute` (`/.well-known/jwks.json`). */
  path: string;
  absolute?: boolean;
  guard: G;
  body: B;
  /** With a `session` guard on an optional JSON body: an empty body is `{}` (POST without a body). */
  optionalBody?: boolean;
  /** For `step-up`: seconds since the step-up after which it no longer counts (default `stepUpTtl`). */
  maxAge?: number;
  /**
   * For `session` and `step-up`: a session restricted to second-factor enrolment (`requireMfa`)
   * may call it — enrolment itself, the step-up it needs, and nothing else. Otherwise such a
   * session gets 403 `mfa_enrollment_required`.
   */
  allowRestricted?: boolean;
  handler(input: EndpointInput<B, G>): Promise<Response> | Response;
}

/** Any endpoint, whatever its body and guard (what features return). */
// biome-ignore lint/suspicious/noExplicitAny: the registry holds endpoints of every body and guard type.
export type AnyEndpoint = Endpoint<any, any>;

/**
 * Declares an endpoint: method, path, guard kind and body schema are data; the handler receives
 * the validated body and, for guarded endpoints, the session.
 *
 * @example
 * ```ts
 * export const login = defineEndpoint(
 *   { method: 'POST', path: '/login', guard: 'anonymous', body: z.object({ email: text({ max: 320 }) }) },
 *   async ({ body, rc, c }) => c.json(await kernel.login(body.email, rc)),
 * );
 * ```
 */
export function defineEndpoint<const B extends BodySpec, const G extends GuardKind>(
  spec: Omit<Endpoint<B, G>, 'handler'>,
  handler: Endpoint<B, G>['handler'],
): Endpoint<B, G> {
  return { ...spec, handler };
}

/** The full path of an endpoint. */
export function endpointPath(
  ctx: Pick<ServerContext, 'config'>,
  endpoint: Pick<AnyEndpoint, 'path' | 'absolute'>,
): string {
  return endpoint.absolute ? endpoint.path : `${ctx.config.basePath}${endpoint.path}`;
}

async function readBody(c: Context<TokenwardEnv>, endpoint: AnyEndpoint): Promise<unknown> {
  if (endpoint.body === 'raw') return undefined;
  if (endpoint.body === 'none') {
    await discardBody(c);
    return undefined;
  }
  return parseBody(endpoint.body, await readJsonObject(c, { optional: endpoint.optionalBody === true }));
}

async function serviceTokenAllowed(ctx: ServerContext, c: Context<TokenwardEnv>): Promise<void> {
  const { timingSafeEqualStrings } = await import('../kernel/crypto/encoding.js');
  const presented = /^Bearer +(\S+)$/i.exec(c.req.header('authorization') ?? '')?.[1];
  let allowed = false;
  if (presented)
    for (const token of ctx.config.serviceTokens) if (await timingSafeEqualStrings(presented, token)) allowed = true;
  if (allowed) return;
  // Without service tokens the endpoint does not exist for anyone.
  if (ctx.config.serviceTokens.length === 0) throw new TokenwardError('not_found');
  throw new TokenwardError('unauthenticated', {
    headers: { 'WWW-Authenticate': 'Bearer realm="tokenward-revocations"' },
  });
}

/** Runs an endpoint: guard (authentication and CSRF), body, then the handler. */
function run(ctx: ServerContext, endpoint: AnyEndpoint) {
  return async (c: Context<TokenwardEnv>): Promise<Response> => {
    let session: SessionInfo | null = null;
    switch (endpoint.guard as GuardKind) {
      case 'none':
        break;
      case 'anonymous':
        // Login CSRF: the double-submit token of anonymous requests is bound to no session.
        await enforceCsrf(ctx, c, { loginCsrf: true, bindings: () => [null] });
        break;
      case 'refresh-cookie':
        await enforceCsrf(ctx, c, { setsCookies: true, bindings: refreshBindings(ctx, c) });
        break;
      case 'session':
      case 'step-up':
        session = await signedIn(ctx, c, { allowRestricted: endpoint.allowRestricted === true });
        break;
      case 'service-token':
        await serviceTokenAllowed(ctx, c);
        break;
    }
    const body = await readBody(c, endpoint);
    const input = { c, body, rc: requestContext(ctx, c), session };
    if (endpoint.guard !== 'step-up') return endpoint.handler(input);
    return withStepUp(ctx, c, session as SessionInfo, endpoint.maxAge ?? ctx.config.stepUpTtlSec, async () =>
      endpoint.handler(input),
    );
  };
}

/**
 * Mounts endpoints on the app: one route per method and path, and 405 with `Allow` for every
 * other method of a known path (API.md). Two endpoints claiming one method and path fail at
 * start (two features must never answer the same route).
 */
export function mountEndpoints(
  app: Hono<TokenwardEnv>,
  ctx: ServerContext,
  endpoints: ReadonlyArray<AnyEndpoint>,
): void {
  const byPath = new Map<string, AnyEndpoint[]>();
  for (const endpoint of endpoints) {
    const path = endpointPath(ctx, endpoint);
    const list = byPath.get(path) ?? [];
    if (list.some((e) => e.method === endpoint.method)) {
      throw new ConfigError(`Two features define ${endpoint.method} ${path}: each route belongs to one feature`);
    }
    list.push(endpoint);
    byPath.set(path, list);
  }
  for (const [path, list] of byPath) {
    for (const endpoint of list) app.on(endpoint.method, path, run(ctx, endpoint));
    const allowed: string[] = list.map((e) => e.method);
    if (allowed.includes('GET')) allowed.push('HEAD');
    const allow = allowed.join(', ');
    app.all(path, () => {
      throw new TokenwardError('method_not_allowed', { headers: { Allow: allow } });
    });
  }
}
