import { serve } from '@hono/node-server';
import { optionsFromFile } from '../config.js';
import { createTokenward } from '../create-tokenward.js';
import type { CliOutput } from './output.js';

/**
 * `tokenward serve`: the Tokenward API alone (no demo app) on PORT (default 3000) and HOST
 * (default 0.0.0.0), configured from TOKENWARD_* and tokenward.config.json. Resolves with the
 * exit code after SIGINT/SIGTERM.
 *
 * @example
 * ```ts
 * process.exitCode = await serveCommand({ out: console.log, err: console.error });
 * ```
 */
export async function serveCommand(io: CliOutput): Promise<number> {
  const tw = await createTokenward({}, { env: process.env, file: optionsFromFile() });
  const server = serve(
    { fetch: tw.app.fetch, port: tw.config.port, hostname: process.env.HOST ?? '0.0.0.0' },
    (info) => {
      const store = tw.config.databaseUrl ? 'PostgreSQL' : `embedded SQLite in ${tw.config.dataDir}`;
      io.out(`Tokenward listening on port ${info.port} (${store}); public origin ${tw.config.publicOrigin}`);
    },
  );
  return new Promise<number>((resolve) => {
    const stop = () => {
      server.close();
      void tw.close().then(() => resolve(0));
      setTimeout(() => resolve(0), 2000).unref();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
