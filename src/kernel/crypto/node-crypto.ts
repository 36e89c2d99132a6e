import type * as NodeCrypto from 'node:crypto';
import type { CryptoKey } from 'jose';

/**
 * `node:crypto` when the runtime hands it out synchronously (`process.getBuiltinModule`: Node
 * ≥ 20.16, Bun, Deno), else null. Core code stays runtime-neutral: it uses these synchronous
 * primitives when present and Web Crypto otherwise, with byte-identical results.
 *
 * Why: every `crypto.subtle` call is a thread-pool round trip costing ≈ 20–90 µs of event-loop
 * time (measured on Node 20), against ≈ 1–2 µs for the same SHA-256 or HMAC done in place. A
 * refresh rotation makes half a dozen of them, which alone capped it near 1,700/s (bench/README.md).
 */
export const nodeCrypto: typeof NodeCrypto | null = (() => {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  try {
    return (proc?.getBuiltinModule?.('node:crypto') as typeof NodeCrypto | undefined) ?? null;
  } catch {
    return null;
  }
})();

const oneShotHash = (nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'base64url') => string } | null)
  ?.hash;

/**
 * SHA-256 of a UTF-8 string, base64url, computed in place (Node's one-shot `crypto.hash` where
 * present, ≈ 2× faster than `createHash` for a token); null without node:crypto.
 */
export function sha256Sync(text: string): string | null {
  if (oneShotHash !== undefined) return oneShotHash('sha256', text, 'base64url');
  return nodeCrypto === null ? null : nodeCrypto.createHash('sha256').update(text, 'utf8').digest('base64url');
}

const keyObjects = new WeakMap<CryptoKey, NodeCrypto.KeyObject | null>();

/**
 * The node `KeyObject` behind a Web Crypto key (works for non-extractable keys too), cached per
 * key; null when the runtime cannot convert it (callers then use Web Crypto).
 */
export function keyObjectOf(key: CryptoKey): NodeCrypto.KeyObject | null {
  if (nodeCrypto === null) return null;
  let object = keyObjects.get(key);
  if (object === undefined) {
    try {
      object = nodeCrypto.KeyObject.from(key as Parameters<typeof NodeCrypto.KeyObject.from>[0]);
    } catch {
      object = null;
    }
    keyObjects.set(key, object);
  }
  return object;
}

const POOL_BYTES = 4096;
let pool: Buffer | null = null;
let poolOffset = POOL_BYTES;

/**
 * `n` CSPRNG bytes (n ≤ 256) cut from a 4 KiB buffer filled by node:crypto, each byte handed out
 * once (what Node does for `randomUUID`): one OpenSSL call per ≈ 50 refreshes instead of four per
 * refresh. Null without node:crypto.
 */
export function pooledRandomBytes(n: number): Buffer | null {
  if (nodeCrypto === null || n > 256) return nodeCrypto?.randomBytes(n) ?? null;
  if (pool === null || poolOffset + n > POOL_BYTES) {
    pool = nodeCrypto.randomFillSync(pool ?? Buffer.allocUnsafeSlow(POOL_BYTES));
    poolOffset = 0;
  }
  const bytes = Buffer.from(pool.subarray(poolOffset, poolOffset + n));
  poolOffset += n;
  return bytes;
}
