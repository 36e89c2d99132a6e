/**
 * `tokenward/fastify`: a Fastify 5 plugin. It answers Tokenward's paths (raw body, Tokenward's
 * own parsers and limits), decorates `request.session`, and adds `fastify.requireSession()` /
 * `fastify.requireStepUp()` that return `preHandler` hooks. Only translation: every answer is the
 * one `tw.fetch` gives.
 */
import type {
  FastifyInstance,
  FastifyPluginAsync,
  FastifyReply,
  FastifyRequest,
  preHandlerAsyncHookHandler,
} from 'fastify';
import type { Tokenward } from '../create-tokenward.js';
import type { SessionInfo } from '../server/context.js';
import { type Guard, GuardFactory, type RequireSessionOptions, type RequireStepUpOptions } from './guard.js';
import { nodeGuardInput, serveWithTokenward, settleStepUpOnResponse } from './node.js';

export type { RequireSessionOptions, RequireStepUpOptions, SessionInfo };

declare module 'fastify' {
  interface FastifyRequest {
    /** The Tokenward session, set by the `requireSession()` / `requireStepUp()` hooks (null elsewhere). */
    session: SessionInfo | null;
  }
  interface FastifyInstance {
    /** A `preHandler` hook guarding a route with a session (and the CSRF rule for state-changing cookie requests). */
    requireSession(options?: RequireSessionOptions): preHandlerAsyncHookHandler;
    /** A `preHandler` hook guarding a route with a session and a fresh, unused step-up grant. */
    requireStepUp(options?: RequireStepUpOptions): preHandlerAsyncHookHandler;
  }
}

export interface FastifyAdapterOptions {
  tokenward: Tokenward;
  /** Also answer `/healthz` and `/metrics` (default true). */
  operations?: boolean;
}

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

async function sendRefusal(reply: FastifyReply, response: Response): Promise<void> {
  const body = Buffer.from(await response.arrayBuffer());
  for (const [name, value] of response.headers) if (name !== 'set-cookie') void reply.header(name, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) void reply.header('set-cookie', cookies);
  await reply.code(response.status).send(body);
}

/**
 * Registers Tokenward on a Fastify 5 instance. Decorations reach the whole app (the plugin is
 * not encapsulated); the auth routes live in their own context without Fastify's body parsers.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { tokenwardFastify } from 'tokenward/fastify';
 * const app = Fastify();
 * await app.register(tokenwardFastify, { tokenward: tw });
 * app.get('/api/profile', { preHandler: app.requireSession() }, async (request) => ({ userId: request.session?.userId }));
 * ```
 */
export const tokenwardFastify: FastifyPluginAsync<FastifyAdapterOptions> = async (
  fastify: FastifyInstance,
  options: FastifyAdapterOptions,
) => {
  const tw = options.tokenward;
  const guards = new GuardFactory(tw);
  const hook = (guard: Guard): preHandlerAsyncHookHandler =>
    async function tokenwardGuard(request: FastifyRequest, reply: FastifyReply) {
      const outcome = await guard(nodeGuardInput(request.raw, tw.config.publicOrigin));
      if (!outcome.ok) {
        await sendRefusal(reply, outcome.response);
        return reply;
      }
      if (outcome.stepUp !== null) settleStepUpOnResponse(reply.raw, outcome.stepUp);
      request.session = outcome.session;
    };

  fastify.decorateRequest('session', null);
  fastify.decorate('requireSession', (opts?: RequireSessionOptions) => hook(guards.session(opts)));
  fastify.decorate('requireStepUp', (opts?: RequireStepUpOptions) => hook(guards.stepUp(opts)));

  await fastify.register(async (routes) => {
    // Tokenward reads the raw body itself (content types, 64 KiB cap, its own 400/413/415).
    routes.removeAllContentTypeParsers();
    routes.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
    const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
      reply.hijack();
      await serveWithTokenward(tw, request.raw, reply.raw);
    };
    const base = tw.config.basePath;
    const paths = [
      base,
      `${base}/*`,
      '/.well-known/jwks.json',
      ...(options.operations === false ? [] : ['/healthz', '/metrics']),
    ];
    for (const url of paths) routes.route({ method: [...METHODS], url, handler, exposeHeadRoute: false });
  });
};

// Not encapsulated: `request.session` and the guard decorators are visible to the whole app.
(tokenwardFastify as unknown as Record<symbol, unknown>)[Symbol.for('skip-override')] = true;
(tokenwardFastify as unknown as Record<symbol, unknown>)[Symbol.for('fastify.display-name')] = 'tokenward';
