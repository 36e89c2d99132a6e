/**
 * `tokenward/node`: Tokenward on a plain `node:http` (or `node:https`) server, and the
 * IncomingMessage ↔ Web Request/Response translation the Express and Fastify adapters share.
 * It only translates: every answer is the one `tw.fetch` gives.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Tokenward } from '../create-tokenward.js';
import type { SessionInfo, TokenwardEnv } from '../server/context.js';
import { isSuccess, type StepUpClaim } from '../server/middleware/require-step-up.js';
import { bindRequestIdentity } from '../server/middleware/session.js';
import {
  type Guard,
  GuardFactory,
  type GuardInput,
  type RequireSessionOptions,
  type RequireStepUpOptions,
  tokenwardPaths,
} from './guard.js';

export type { RequireSessionOptions, RequireStepUpOptions, SessionInfo };

/** How long, and how much, an unread request body is drained after the answer (keep-alive). */
const DRAIN_TIMEOUT_MS = 1000;
const DRAIN_MAX_BYTES = 8 * 1024 * 1024;

/** The socket peer address: passed to Tokenward as `{ ip }`, which applies its own `trustProxy` rule. */
export function socketAddress(req: IncomingMessage): string {
  return req.socket?.remoteAddress ?? 'unknown';
}

function requestUrl(req: IncomingMessage, fallbackOrigin: string, path: string): URL {
  const scheme = (req.socket as TLSSocket | undefined)?.encrypted ? 'https' : 'http';
  const host = req.headers.host;
  try {
    return new URL(path, host ? `${scheme}://${host}` : fallbackOrigin);
  } catch {
    return new URL(path.startsWith('/') ? path : '/', fallbackOrigin);
  }
}

function webHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.startsWith(':')) continue; // HTTP/2 pseudo-headers
    try {
      headers.append(name, raw[i + 1] as string);
    } catch {
      // A value the Fetch API refuses cannot reach Tokenward's parsers anyway.
    }
  }
  return headers;
}

interface BodySource {
  stream: ReadableStream<Uint8Array>;
  /** Reads and discards what Tokenward did not read (so keep-alive connections stay usable). */
  drain: () => void;
}

/**
 * A pull-based body: bytes are read from the socket only as Tokenward asks for them, and a
 * cancel (e.g. 413 at 64 KiB) does not destroy the socket before the answer is written.
 */
function nodeBody(req: IncomingMessage): BodySource {
  let iterator: AsyncIterator<Buffer> | undefined;
  let done = false;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      iterator ??= req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      try {
        const next = await iterator.next();
        if (next.done) {
          done = true;
          controller.close();
        } else {
          const chunk = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        }
      } catch (error) {
        done = true;
        controller.error(error);
      }
    },
  });
  const drain = (): void => {
    if (done || req.readableEnded || req.destroyed) return;
    if (iterator === undefined) {
      req.resume(); // never read: plain flowing mode discards it
      return;
    }
    const it = iterator;
    let bytes = 0;
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    void (async () => {
      try {
        for (;;) {
          const next = await it.next();
          if (next.done) return;
          bytes += (next.value as Buffer).length;
          if (bytes > DRAIN_MAX_BYTES || Date.now() > deadline) {
            req.socket?.destroySoon?.();
            return;
          }
        }
      } catch {
        // The client went away.
      }
    })();
  };
  return { stream, drain };
}

/** A body that a framework already read (e.g. `express.json()` ran first). */
function preParsedBody(req: IncomingMessage & { body?: unknown }): Uint8Array | null {
  const body = req.body;
  if (!req.readableEnded || body === undefined) return null;
  if (Buffer.isBuffer(body)) return body;
  if (typeof body === 'string') return Buffer.from(body);
  if (typeof body === 'object' && body !== null && Object.keys(body).length > 0)
    return Buffer.from(JSON.stringify(body));
  return new Uint8Array(0);
}

export interface ToWebRequestOptions {
  /** Path and query as the client sent them (default `req.url`; Express: `req.originalUrl`). */
  url?: string;
  /** Origin used when the request has no usable Host header (Tokenward's public origin). */
  fallbackOrigin: string;
  /** Include the body (routes) or not (guards read headers only). */
  body: boolean;
}

/** An IncomingMessage as a Web `Request`, plus a `drain` to call once the answer is written. */
export function toWebRequest(
  req: IncomingMessage,
  options: ToWebRequestOptions,
): { request: Request; drain: () => void } {
  const url = requestUrl(req, options.fallbackOrigin, options.url ?? req.url ?? '/');
  const method = req.method ?? 'GET';
  const init: RequestInit & { duplex?: 'half' } = { method, headers: webHeaders(req) };
  let drain = (): void => {};
  if (options.body && method !== 'GET' && method !== 'HEAD') {
    const parsed = preParsedBody(req);
    if (parsed !== null) {
      init.body = parsed;
    } else {
      const source = nodeBody(req);
      init.body = source.stream;
      init.duplex = 'half';
      drain = source.drain;
    }
  }
  return { request: new Request(url, init), drain };
}

/** Writes a Web `Response` to a ServerResponse: status, every header (each Set-Cookie apart), body. */
export async function writeWebResponse(res: ServerResponse, response: Response, method = 'GET'): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of response.headers) if (name !== 'set-cookie') headers[name] = value;
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  const body = response.body === null || method === 'HEAD' ? null : Buffer.from(await response.arrayBuffer());
  if (body !== null && headers['content-length'] === undefined) headers['content-length'] = String(body.length);
  res.writeHead(response.status, headers);
  res.end(body ?? undefined);
}

/** Request-bound Web requests for guards: one per IncomingMessage, so chained guards share it (a DPoP proof is single-use). */
const guardRequests = new WeakMap<IncomingMessage, Request>();

/** The header-only Web request guards run on (cached per IncomingMessage, which stays its DPoP identity). */
export function guardRequest(req: IncomingMessage, fallbackOrigin: string, url?: string): Request {
  let request = guardRequests.get(req);
  if (request === undefined) {
    request = toWebRequest(req, { fallbackOrigin, body: false, ...(url === undefined ? {} : { url }) }).request;
    guardRequests.set(req, request);
    bindRequestIdentity(request, req);
  }
  return request;
}

/**
 * A header the way the Fetch API's `Headers.get` reads it from `rawHeaders`: case-insensitive
 * name, repeated fields joined with `, ` (`; ` for Cookie), HTTP/2 pseudo-headers never match.
 */
export function rawHeader(req: IncomingMessage, name: string): string | undefined {
  const raw = req.rawHeaders;
  let value: string | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const field = raw[i] as string;
    if (field.length !== name.length || field.toLowerCase() !== name) continue;
    const v = raw[i + 1] as string;
    value = value === undefined ? v : `${value}${name === 'cookie' ? '; ' : ', '}${v}`;
  }
  return value;
}

/** A Node request as guards see it: headers read in place, the Web request built only if needed. */
class NodeGuardInput implements GuardInput {
  readonly raw: IncomingMessage;
  readonly method: string;
  readonly env: TokenwardEnv['Bindings'];
  readonly #fallbackOrigin: string;
  readonly #path: string | undefined;

  constructor(req: IncomingMessage, fallbackOrigin: string, path: string | undefined) {
    this.raw = req;
    this.method = req.method ?? 'GET';
    this.env = { ip: socketAddress(req) };
    this.#fallbackOrigin = fallbackOrigin;
    this.#path = path;
  }

  header(name: string): string | undefined {
    return rawHeader(this.raw, name);
  }

  get url(): string {
    return this.request().url;
  }

  request(): Request {
    return guardRequest(this.raw, this.#fallbackOrigin, this.#path);
  }
}

/** The guard input of a Node request (`path`: the URL to use instead of `req.url`, e.g. Express's `originalUrl`). */
export function nodeGuardInput(req: IncomingMessage, fallbackOrigin: string, path?: string): GuardInput {
  return new NodeGuardInput(req, fallbackOrigin, path);
}

/** Runs a guard for a Node request: the session, or null after writing Tokenward's refusal. */
export async function runGuard(
  guard: Guard,
  tw: Tokenward,
  req: IncomingMessage,
  res: ServerResponse,
  url?: string,
): Promise<SessionInfo | null> {
  const outcome = await guard(nodeGuardInput(req, tw.config.publicOrigin, url));
  if (!outcome.ok) {
    await writeWebResponse(res, outcome.response, req.method);
    return null;
  }
  if (outcome.stepUp !== null) settleStepUpOnResponse(res, outcome.stepUp);
  return outcome.session;
}

/**
 * Settles a step-up claim when the route writes its status: a 2xx consumes the grant and clears
 * its cookie; any other status (or a connection closed before an answer) gives the grant back.
 */
export function settleStepUpOnResponse(res: ServerResponse, claim: StepUpClaim): void {
  const writeHead = res.writeHead;
  // Every answer passes here: res.end() without writeHead() calls it with res.statusCode.
  res.writeHead = function writeHeadSettlingStepUp(
    this: ServerResponse,
    ...args: Parameters<ServerResponse['writeHead']>
  ) {
    res.writeHead = writeHead;
    const succeeded = isSuccess(args[0]);
    if (succeeded) res.appendHeader('set-cookie', claim.clearCookie);
    void claim.settle(succeeded);
    return writeHead.apply(this, args);
  } as ServerResponse['writeHead'];
  res.once('close', () => {
    if (!res.headersSent) void claim.settle(false);
  });
}

/** Serves one request with `tw.fetch` (body streamed, IP passed as `{ ip }`). */
export async function serveWithTokenward(
  tw: Tokenward,
  req: IncomingMessage,
  res: ServerResponse,
  url?: string,
): Promise<void> {
  const { request, drain } = toWebRequest(req, {
    fallbackOrigin: tw.config.publicOrigin,
    body: true,
    ...(url === undefined ? {} : { url }),
  });
  res.once('finish', drain);
  const response = await tw.fetch(request, { ip: socketAddress(req) });
  await writeWebResponse(res, response, req.method);
}

export interface NodeAdapterOptions {
  /** Also answer `/healthz` and `/metrics` (default true). */
  operations?: boolean;
}

/** Tokenward for a plain `node:http` server. */
export interface TokenwardNode {
  /** Answers the request when it is Tokenward's (auth routes, JWKS, health, metrics) and resolves true; false leaves it untouched. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** A guard: resolves the session, or writes the 401/403 problem and resolves null. */
  requireSession(
    options?: RequireSessionOptions,
  ): (req: IncomingMessage, res: ServerResponse) => Promise<SessionInfo | null>;
  /** A step-up guard (session + fresh, unused step-up grant): the session, or null after writing the RFC 9470 challenge. */
  requireStepUp(
    options?: RequireStepUpOptions,
  ): (req: IncomingMessage, res: ServerResponse) => Promise<SessionInfo | null>;
  /** A request listener: Tokenward's routes, then `app` (default: every request goes to `tw.fetch`, i.e. `tw.app`'s routes). */
  listener(app?: RequestListener): RequestListener;
}

/**
 * Mounts Tokenward on a `node:http` server.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { tokenwardNode } from 'tokenward/node';
 * const auth = tokenwardNode(tw);
 * const requireSession = auth.requireSession();
 * createServer(auth.listener(async (req, res) => {
 *   const session = await requireSession(req, res);
 *   if (!session) return; // 401 already sent
 *   res.end(JSON.stringify({ userId: session.userId }));
 * })).listen(3000);
 * ```
 */
export function tokenwardNode(tw: Tokenward, options: NodeAdapterOptions = {}): TokenwardNode {
  const guards = new GuardFactory(tw);
  const isTokenwardPath = tokenwardPaths(tw, options);
  const pathOf = (req: IncomingMessage): string => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    return q === -1 ? url : url.slice(0, q);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (!isTokenwardPath(pathOf(req))) return false;
    await serveWithTokenward(tw, req, res);
    return true;
  };
  const guarded = (guard: Guard) => (req: IncomingMessage, res: ServerResponse) => runGuard(guard, tw, req, res);
  const fail = (res: ServerResponse, error: unknown): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    void writeWebResponse(res, tw.errorResponse(error));
  };
  return {
    handle,
    requireSession: (opts) => guarded(guards.session(opts)),
    requireStepUp: (opts) => guarded(guards.stepUp(opts)),
    listener: (app) => (req, res) => {
      const work =
        app === undefined
          ? serveWithTokenward(tw, req, res)
          : handle(req, res).then((handled) => (handled ? undefined : app(req, res)));
      Promise.resolve(work).catch((error: unknown) => fail(res, error));
    },
  };
}
