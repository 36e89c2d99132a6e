import type { KernelConfig } from '../kernel/config/kernel-config.js';

/** `host[:port][/path]` of a connection URL: never its user name or password. */
function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname.length > 1 ? u.pathname : ''}`;
  } catch {
    return 'unparsable URL';
  }
}

/**
 * The one line a Tokenward server logs when it starts: where it listens, its mode (`embedded`
 * SQLite or `postgres`, plus Redis when set), its public origin, and `insecureHttp` when on.
 * Never a password, secret or token.
 *
 * @example
 * ```ts
 * startupLine({ url: 'http://0.0.0.0:3000', config: tw.config });
 * // 'Tokenward listening on http://0.0.0.0:3000 · mode embedded (SQLite in ./.tokenward) · origin http://localhost:3000'
 * ```
 */
export function startupLine({
  url,
  config,
}: {
  url?: string;
  config: Pick<KernelConfig, 'databaseUrl' | 'redisUrl' | 'dataDir' | 'publicOrigin' | 'insecureHttp'>;
}): string {
  const mode =
    config.databaseUrl === undefined
      ? `mode embedded (SQLite in ${config.dataDir})`
      : `mode postgres (${hostOf(config.databaseUrl)})`;
  const parts = [url === undefined ? 'Tokenward started' : `Tokenward listening on ${url}`, mode];
  if (config.redisUrl !== undefined) parts.push(`redis ${hostOf(config.redisUrl)}`);
  parts.push(`origin ${config.publicOrigin}`);
  if (config.insecureHttp) parts.push('insecureHttp ON (no Secure cookies: trusted private networks only)');
  return parts.join(' · ');
}
