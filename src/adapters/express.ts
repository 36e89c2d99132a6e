/**
 * `tokenward/express`: Tokenward in an Express 5 app. `routes` answers Tokenward's paths (mount
 * it before body parsers); `requireSession()` / `requireStepUp()` are middleware that put the
 * session on `req.tokenward`. Only translation: every answer is the one `tw.fetch` gives.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Tokenward } from '../create-tokenward.js';
import type { SessionInfo } from '../server/context.js';
import {
  type Guard,
  GuardFactory,
  type RequireSessionOptions,
  type RequireStepUpOptions,
  tokenwardPaths,
} from './guard.js';
import { runGuard, serveWithTokenward } from './node.js';

export type { RequireSessionOptions, RequireStepUpOptions, SessionInfo };

declare global {
  namespace Express {
    interface Request {
      /** The session, set by `requireSession()` / `requireStepUp()`. */
      tokenward?: SessionInfo;
    }
  }
}

export interface ExpressAdapterOptions {
  /** Also answer `/healthz` and `/metrics` (default true). */
  operations?: boolean;
}

export interface TokenwardExpress {
  /** Middleware answering Tokenward's paths (`/auth/*`, JWKS, health, metrics); calls `next()` for the rest. */
  routes: RequestHandler;
  /** Guards a route with a session (and the CSRF rule for state-changing cookie requests); sets `req.tokenward`. */
  requireSession(options?: RequireSessionOptions): RequestHandler;
  /** Guards a route with a session and a fresh, unused step-up grant (RFC 9470 challenge otherwise). */
  requireStepUp(options?: RequireStepUpOptions): RequestHandler;
}

/**
 * Mounts Tokenward on an Express 5 app.
 *
 * @example
 * ```ts
 * import express from 'express';
 * import { tokenwardExpress } from 'tokenward/express';
 * const auth = tokenwardExpress(tw);
 * const app = express();
 * app.use(auth.routes);        // before express.json()
 * app.use(express.json());
 * app.get('/api/profile', auth.requireSession(), (req, res) => res.json({ userId: req.tokenward?.userId }));
 * ```
 */
export function tokenwardExpress(tw: Tokenward, options: ExpressAdapterOptions = {}): TokenwardExpress {
  const guards = new GuardFactory(tw);
  const isTokenwardPath = tokenwardPaths(tw, options);
  const routes: RequestHandler = async (req: Request, res: Response, next: NextFunction) => {
    // `originalUrl`: the full path even when the middleware is mounted under a prefix.
    if (!isTokenwardPath(new URL(req.originalUrl, 'http://x').pathname)) {
      next();
      return;
    }
    await serveWithTokenward(tw, req, res, req.originalUrl);
  };
  const guarded =
    (guard: Guard): RequestHandler =>
    async (req: Request, res: Response, next: NextFunction) => {
      const session = await runGuard(guard, tw, req, res, req.originalUrl);
      if (session === null) return;
      req.tokenward = session;
      next();
    };
  return {
    routes,
    requireSession: (opts) => guarded(guards.session(opts)),
    requireStepUp: (opts) => guarded(guards.stepUp(opts)),
  };
}
