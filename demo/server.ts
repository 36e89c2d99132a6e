/**
 * `npm start`: the Tokenward demo on the embedded store.
 * Honours PORT and every TOKENWARD_* variable of DESIGN.md; invalid configuration stops it
 * with one line naming the option.
 */
import { serve } from '@hono/node-server';
import { optionsFromFile } from '../src/config.js';
import { createTokenward } from '../src/create-tokenward.js';
import { ConfigError } from '../src/errors.js';
import { mountDemo } from './app.js';
import { buildClientBundle } from './bundle.js';

async function main(): Promise<void> {
  // The demo shows every way in: magic links are on and the mails speak of "Tokenward demo",
  // unless the environment says otherwise.
  const env = { TOKENWARD_MAGIC_LINK: 'true', TOKENWARD_MAIL_PRODUCT_NAME: 'Tokenward demo', ...process.env };
  const tw = await createTokenward({}, { env, file: optionsFromFile() });
  mountDemo(tw, { assets: await buildClientBundle() });
  const server = serve(
    { fetch: tw.app.fetch, port: tw.config.port, hostname: process.env.HOST ?? '0.0.0.0' },
    (info) => {
      const store = tw.config.databaseUrl ? 'PostgreSQL' : `embedded SQLite in ${tw.config.dataDir}`;
      console.log(`Tokenward demo listening on port ${info.port} (${store})`);
      console.log(`Open ${tw.config.publicOrigin}/`);
    },
  );
  const stop = () => {
    server.close();
    void tw.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) console.error(`tokenward: ${error.message}`);
  else console.error(`tokenward: failed to start: ${(error as Error).message}`);
  process.exit(1);
});
