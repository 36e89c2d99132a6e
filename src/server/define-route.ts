import type { Handler, Hono } from 'hono';
import { TokenwardError } from '../errors.js';
import type { TokenwardEnv } from './context.js';

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * Registers handlers for a path and answers every other method with 405 + `Allow`
 * (API.md: a known route with the wrong method gets 405).
 */
export function defineRoute(
  app: Hono<TokenwardEnv>,
  path: string,
  handlers: Partial<Record<Method, Handler<TokenwardEnv>>>,
): void {
  const allowed = Object.keys(handlers) as Method[];
  if (allowed.includes('GET')) allowed.push('HEAD' as Method);
  for (const [method, handler] of Object.entries(handlers) as Array<[Method, Handler<TokenwardEnv>]>) {
    app.on(method, path, handler);
  }
  const allow = allowed.join(', ');
  app.all(path, () => {
    throw new TokenwardError('method_not_allowed', { headers: { Allow: allow } });
  });
}
