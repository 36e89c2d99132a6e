import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../errors.js';

/**
 * The server secret: `TOKENWARD_SECRET` when given, else (embedded mode only) generated once
 * into `<dataDir>/secret` with mode 0600 and reused on every start.
 */
export function loadOrCreateSecret(options: { secret: string | undefined; dataDir: string; embedded: boolean }): {
  secret: string;
  created: boolean;
} {
  if (options.secret) return { secret: options.secret, created: false };
  if (!options.embedded)
    throw new ConfigError('Invalid configuration: secret (env TOKENWARD_SECRET) is required with PostgreSQL');
  try {
    mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration: dataDir (env TOKENWARD_DATA_DIR) ${options.dataDir} cannot be created: ${(error as Error).message}`,
    );
  }
  const file = join(options.dataDir, 'secret');
  if (existsSync(file)) {
    const secret = readFileSync(file, 'utf8').trim();
    if (secret.length < 32)
      throw new ConfigError(`Invalid data dir: ${file} holds a secret shorter than 32 characters`);
    return { secret, created: false };
  }
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { secret, created: true };
}
