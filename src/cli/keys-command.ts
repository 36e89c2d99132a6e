import type { TokenwardConfig } from '../config.js';
import { deriveSealKey } from '../kernel/crypto/seal.js';
import { KeyRing, type SigningKeyInfo } from '../kernel/keys/key-ring.js';
import { loadOrCreateSecret } from '../server/secret.js';
import { openStore } from '../store/index.js';
import { type CliOutput, humanDuration, isoTime } from './output.js';

/** Options of {@link keysCommand}. */
export interface KeysCommandOptions {
  /** `keys rotate`: publish and promote without waiting. */
  now?: boolean | undefined;
  /** `keys list`: print JSON instead of a table. */
  json?: boolean | undefined;
}

/** The `keys` subcommands. */
export const KEYS_SUBCOMMANDS = ['list', 'rotate', 'prune'] as const;

/** One of {@link KEYS_SUBCOMMANDS}. */
export type KeysSubcommand = (typeof KEYS_SUBCOMMANDS)[number];

/**
 * `tokenward keys list|rotate|prune` against the configured store, with the servers' secret,
 * algorithm and access-token lifetime (they decide the rotation schedule).
 *
 * @example
 * ```ts
 * await keysCommand('rotate', config, { out: console.log, err: console.error });
 * ```
 */
export async function keysCommand(
  sub: KeysSubcommand,
  config: TokenwardConfig,
  io: CliOutput,
  options: KeysCommandOptions = {},
): Promise<number> {
  const { secret } = loadOrCreateSecret({
    secret: config.secret,
    dataDir: config.dataDir,
    embedded: config.databaseUrl === undefined,
  });
  const store = await openStore({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  try {
    const clock = { now: () => Date.now() };
    const ring = new KeyRing({
      store,
      sealKey: await deriveSealKey(secret, 'key-encryption'),
      algorithm: config.algorithm,
      clock,
      accessTtlSec: config.accessTtlSec,
    });
    if (sub === 'list') return listKeys(await ring.list(), io, options.json === true, clock.now());
    if (sub === 'prune') {
      const retired = await ring.prune();
      io.out(
        retired.length === 0
          ? 'No retiring key is due: nothing retired.'
          : retired.map((kid) => `Retired ${kid} (no longer published)`).join('\n'),
      );
      return 0;
    }
    return await rotate(ring, io, options.now === true, config);
  } finally {
    await store.close();
  }
}

function listKeys(keys: SigningKeyInfo[], io: CliOutput, json: boolean, now: number): number {
  if (json) {
    io.out(JSON.stringify(keys, null, 2));
    return 0;
  }
  if (keys.length === 0) {
    io.out(
      'No signing keys yet: the server creates the first one when it starts (or run `tokenward keys rotate --now`).',
    );
    return 0;
  }
  const rows = keys.map((k) => [k.kid, k.alg, k.state, isoTime(k.createdAt), isoTime(k.updatedAt), due(k, now)]);
  const header = ['KID', 'ALG', 'STATE', 'CREATED', 'UPDATED', 'NEXT'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  for (const row of [header, ...rows])
    io.out(
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    );
  return 0;
}

function due(k: SigningKeyInfo, now: number): string {
  if (k.dueAt === null) return '';
  const verb = k.state === 'next' ? 'promotable' : 'retires';
  return k.dueAt <= now ? `${verb} now` : `${verb} in ${humanDuration(k.dueAt - now)}`;
}

async function rotate(ring: KeyRing, io: CliOutput, early: boolean, config: TokenwardConfig): Promise<number> {
  const step = await ring.rotate({ early });
  const now = Date.now();
  if (step.action === 'published') {
    io.out(`Published next key ${step.next.kid} (${step.next.alg}). It is in JWKS but does not sign yet.`);
    io.out(
      `Run \`tokenward keys rotate\` again after ${isoTime(step.promotableAt)} (in ${humanDuration(step.promotableAt - now)}) to make it the signing key.`,
    );
  } else if (step.action === 'waiting') {
    io.out(
      `Next key ${step.next.kid} (${step.next.alg}) was published at ${isoTime(step.next.updatedAt)}; nothing changed.`,
    );
    io.out(
      `It can be promoted after ${isoTime(step.promotableAt)} (in ${humanDuration(step.promotableAt - now)}): every node must have reloaded it and every JWKS cache (max-age ${ring.schedule.jwksMaxAgeSec} s) must hold it first.`,
    );
  } else {
    io.out(
      `Promoted ${step.current.kid} (${step.current.alg}): it signs new access tokens now (nodes pick it up within their 10 s key reload).`,
    );
    if (step.retiring) {
      io.out(
        `Previous key ${step.retiring.kid} (${step.retiring.alg}) is retiring: it still verifies, and is retired after ${isoTime(step.retiring.dueAt ?? now)}.`,
      );
    }
    if (step.retiring && step.retiring.alg !== config.algorithm)
      io.out(`Signing algorithm changed from ${step.retiring.alg} to ${config.algorithm}.`);
    if (step.early) {
      io.err(
        'warning: promoted without the publish delay. Tokenward nodes still verify every token (an unknown kid makes them re-read the keys), but other services verifying with a cached JWKS (tokenward/verify) may reject tokens of the new key until they refetch it (at most their unknown-kid cooldown, 30 s by default).',
      );
    }
  }
  return 0;
}
