import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { tokenwardPaths } from '../adapters/guard.js';
import { optionsFromFile, type TokenwardOptions } from '../config.js';
import { createTokenward } from '../create-tokenward.js';
import type { TokenwardEnv } from '../server/context.js';
import { startupLine } from '../server/startup-line.js';
import { CliFailure } from './admin-store.js';
import type { CliOutput } from './output.js';
import { staticDirProblem, staticFiles } from './static-files.js';

/** Options of `tokenward serve` (flags win over PORT, HOST and TOKENWARD_*). */
export interface ServeOptions {
  /** `--port`: listen port (default PORT, else 3000). */
  port?: number | undefined;
  /** `--host`: listen address (default HOST, else 0.0.0.0). */
  host?: string | undefined;
  /** `--static DIR`: also serve this SPA build (index.html for client-side routes). */
  staticDir?: string | undefined;
  /** `--shutdown-timeout`: seconds in-flight requests get to finish after SIGTERM/SIGINT (default 10). */
  shutdownTimeoutSec?: number | undefined;
  /** Resolves when the process should stop (default: the first SIGTERM or SIGINT). */
  stopSignal?: Promise<unknown>;
}

function onFirstSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
}

function listen(
  fetch: (request: Request, env: TokenwardEnv['Bindings']) => Promise<Response>,
  port: number,
  hostname: string,
): Promise<ServerType> {
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: fetch as (request: Request, env: unknown) => Promise<Response>, port, hostname },
      () => resolve(server),
    );
    server.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new CliFailure(
          error.code === 'EADDRINUSE'
            ? `port ${port} is already in use (set --port or PORT)`
            : `cannot listen on ${hostname}:${port}: ${error.message}`,
        ),
      );
    });
  });
}

/**
 * `tokenward serve`: the production entry. Tokenward's routes alone (no demo app), configured from
 * TOKENWARD_* and tokenward.config.json, optionally an SPA build (`--static DIR`). Prints one
 * start-up line; on SIGTERM/SIGINT it stops accepting connections, lets in-flight requests finish
 * (at most `shutdownTimeoutSec`), closes the store, and resolves 0.
 *
 * @example
 * ```ts
 * process.exitCode = await serveCommand({ out: console.log, err: console.error }, { port: 8080, staticDir: 'dist' });
 * ```
 */
export async function serveCommand(io: CliOutput, options: ServeOptions = {}): Promise<number> {
  // Listened for from the start: a SIGTERM while starting still stops cleanly, once started.
  const stop = options.stopSignal ?? onFirstSignal();
  const problem = options.staticDir === undefined ? null : staticDirProblem(options.staticDir);
  if (problem !== null) throw new CliFailure(problem);
  const overrides: TokenwardOptions = options.port === undefined ? {} : { port: options.port };
  const tw = await createTokenward(overrides, { env: process.env, file: optionsFromFile() });
  if (options.staticDir !== undefined) {
    const isTokenwardPath = tokenwardPaths(tw);
    // `/.well-known/*` stays the server's even beyond the JWKS (OAuth metadata and future documents).
    tw.app.get(
      '*',
      staticFiles(options.staticDir, { reserved: (path) => isTokenwardPath(path) || path.startsWith('/.well-known/') }),
    );
  }

  let inFlight = 0;
  let draining = false;
  const fetch = async (request: Request, env: TokenwardEnv['Bindings']): Promise<Response> => {
    inFlight += 1;
    try {
      const response = await tw.app.fetch(request, env);
      // While draining, keep-alive connections close after their answer.
      if (draining) response.headers.set('Connection', 'close');
      return response;
    } finally {
      inFlight -= 1;
    }
  };

  let server: ServerType;
  try {
    server = await listen(fetch, tw.config.port, options.host ?? process.env.HOST ?? '0.0.0.0');
  } catch (error) {
    await tw.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const staticNote = options.staticDir === undefined ? '' : ` · static ${options.staticDir}`;
  io.out(`${startupLine({ url: `http://${host}:${address.port}`, config: tw.config })}${staticNote}`);

  const signal = await stop;
  draining = true;
  const boundMs = (options.shutdownTimeoutSec ?? 10) * 1000;
  io.out(
    `Tokenward stopping${typeof signal === 'string' ? ` (${signal})` : ''}: ${inFlight} request(s) in flight, waiting up to ${boundMs / 1000} s`,
  );
  // Stop accepting; idle keep-alive connections close now, busy ones after their answer
  // (which carries `Connection: close`). `close` fires once every connection has ended.
  const closed = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
  (server as { closeIdleConnections?: () => void }).closeIdleConnections?.();
  let timer: NodeJS.Timeout | undefined;
  const inTime = await Promise.race([
    closed,
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), boundMs))),
  ]);
  clearTimeout(timer);
  if (!inTime) {
    io.err(`tokenward: ${inFlight} request(s) still running after ${boundMs / 1000} s; closing their connections`);
    (server as { closeAllConnections?: () => void }).closeAllConnections?.();
    await closed;
  }
  await tw.close();
  io.out('Tokenward stopped');
  return 0;
}
