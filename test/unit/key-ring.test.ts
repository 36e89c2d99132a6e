import { decodeProtectedHeader } from 'jose';
import { beforeEach, describe, expect, it } from 'vitest';
import { deriveSealKey } from '../../src/kernel/crypto/seal.js';
import { KeyRing, keySchedule } from '../../src/kernel/keys/key-ring.js';
import type { Store } from '../../src/kernel/ports.js';
import { type SigningAlgorithm, signAccessToken, verifyAccessToken } from '../../src/kernel/tokens/access-token.js';
import { createMemoryStore } from '../../src/store/memory/memory-store.js';
import { TestClock } from '../support/instance.js';

const ISSUER = 'https://app.example.com';
const TTL = 600;

async function ringOn(
  store: Store,
  clock: TestClock,
  options: { algorithm?: SigningAlgorithm; secret?: string } = {},
): Promise<KeyRing> {
  const sealKey = await deriveSealKey(options.secret ?? 'k'.repeat(43), 'key-encryption');
  return new KeyRing({ store, sealKey, algorithm: options.algorithm ?? 'EdDSA', clock, accessTtlSec: TTL });
}

async function tokenFrom(ring: KeyRing, clock: TestClock): Promise<string> {
  const iat = Math.floor(clock.now() / 1000);
  return signAccessToken(
    {
      iss: ISSUER,
      aud: ISSUER,
      sub: 'u1',
      sid: 's1',
      jti: crypto.randomUUID(),
      iat,
      exp: iat + TTL,
      auth_time: iat,
      amr: ['pwd'],
    },
    ring.current(),
  );
}

async function verifiesOn(ring: KeyRing, token: string, clock: TestClock): Promise<boolean> {
  const r = await verifyAccessToken(token, {
    issuer: ISSUER,
    audience: ISSUER,
    algorithms: ['EdDSA', 'ES256', 'RS256'],
    keyFor: (kid) => ring.keyFor(kid),
    now: clock.now(),
  });
  return r.ok;
}

const kidOf = (token: string) => decodeProtectedHeader(token).kid;
const states = async (store: Store) => Object.fromEntries((await store.listSigningKeys()).map((k) => [k.kid, k.state]));

describe('key ring › rotation', () => {
  let store: Store;
  let clock: TestClock;
  let cli: KeyRing;
  let node: KeyRing;

  beforeEach(async () => {
    store = createMemoryStore();
    clock = new TestClock();
    node = await ringOn(store, clock);
    await node.load();
    cli = await ringOn(store, clock);
  });

  it('schedule: JWKS max-age ≤ the publish delay; a retiring key outlives the access-token lifetime plus a reload', () => {
    for (const ttl of [10, 60, 600, 86_400]) {
      const s = keySchedule(ttl);
      expect(s.jwksMaxAgeSec).toBeLessThanOrEqual(300);
      expect(s.publishSec).toBeGreaterThanOrEqual(s.jwksMaxAgeSec + 10);
      expect(s.retireSec).toBeGreaterThanOrEqual(ttl + 10);
    }
  });

  it('first rotate publishes a next key that is in JWKS but does not sign', async () => {
    const before = node.current().kid;
    const step = await cli.rotate();
    expect(step.action).toBe('published');
    if (step.action !== 'published') return;
    await node.reload();
    expect(node.current().kid).toBe(before);
    expect(node.jwks().keys.map((k) => k.kid)).toEqual(expect.arrayContaining([before, step.next.kid]));
    expect(step.promotableAt).toBe(clock.now() + node.schedule.publishSec * 1000);
  });

  it('rotate before the publish delay changes nothing', async () => {
    await cli.rotate();
    const snapshot = await states(store);
    clock.advance(node.schedule.publishSec - 1);
    expect((await cli.rotate()).action).toBe('waiting');
    expect(await states(store)).toEqual(snapshot);
  });

  it('publish → promote → retire: a token signed before the rotation verifies until its key is retired', async () => {
    const old = node.current().kid;
    const early = await tokenFrom(node, clock);
    const published = await cli.rotate();
    clock.advance(node.schedule.publishSec);
    const promoted = await cli.rotate();
    expect(promoted).toMatchObject({ action: 'promoted', early: false, retiring: { kid: old, state: 'retiring' } });
    if (promoted.action !== 'promoted' || published.action !== 'published') return;
    expect(promoted.current.kid).toBe(published.next.kid);
    await node.reload();
    const late = await tokenFrom(node, clock);
    expect(kidOf(late)).toBe(published.next.kid);
    expect(await verifiesOn(node, early, clock)).toBe(true);
    expect(await verifiesOn(node, late, clock)).toBe(true);

    clock.advance(node.schedule.retireSec - 1);
    await node.reload();
    expect((await states(store))[old]).toBe('retiring');
    clock.advance(1);
    await node.reload(); // every node's periodic reload retires what is due
    expect((await states(store))[old]).toBe('retired');
    expect(node.jwks().keys.map((k) => k.kid)).not.toContain(old);
  });

  it('prune retires only retiring keys that are due', async () => {
    await cli.rotate({ early: true });
    expect(await cli.prune()).toEqual([]);
    clock.advance(node.schedule.retireSec);
    const retiring = Object.entries(await states(store)).find(([, s]) => s === 'retiring')?.[0];
    expect(await cli.prune()).toEqual([retiring]);
  });

  it('rotate --now (early): another node that has not reloaded still verifies the new key (it re-reads on an unknown kid)', async () => {
    const other = await ringOn(store, clock);
    await other.load();
    const step = await cli.rotate({ early: true });
    expect(step).toMatchObject({ action: 'promoted', early: true });
    await node.reload();
    const token = await tokenFrom(node, clock);
    expect(kidOf(token)).not.toBe(other.current().kid);
    expect(await verifiesOn(other, token, clock)).toBe(true);
    expect(other.current().kid).toBe(kidOf(token));
  });

  it('unknown kids re-read the store at most once per second, and a read always starts after the token arrived', async () => {
    let reads = 0;
    const list = store.listSigningKeys.bind(store);
    store.listSigningKeys = async () => {
      reads++;
      return list();
    };
    // Shaped like thumbprints (the only kids this issuer makes); other shapes never cause a read.
    const invented = Array.from({ length: 20 }, (_, i) => `invented${i}`.padEnd(43, 'x'));
    expect(await node.keyFor('../../etc/passwd')).toBeUndefined();
    expect(reads).toBe(0);
    const t0 = performance.now();
    const first = await Promise.all(invented.map((kid) => node.keyFor(kid)));
    expect(first.every((k) => k === undefined)).toBe(true);
    expect(reads).toBe(1);
    // A key promoted right now by another process is found even though a read just happened.
    await cli.rotate({ early: true });
    const fresh = (await store.listSigningKeys()).find((k) => k.state === 'current')?.kid ?? '';
    reads = 0;
    expect(await node.keyFor(fresh)).toBeDefined();
    expect(reads).toBe(1);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(900);
  });

  it('a reload between the two writes of a promotion keeps signing with the previous key', async () => {
    const old = node.current().kid;
    await cli.rotate();
    await store.setSigningKeyState(old, 'retiring', clock.now()); // first half of a promotion
    await node.reload();
    expect(node.current().kid).toBe(old);
    const next = Object.entries(await states(store)).find(([, s]) => s === 'next')?.[0] ?? '';
    await store.setSigningKeyState(next, 'current', clock.now());
    await node.reload();
    expect(node.current().kid).toBe(next);
  });

  it('a node starting during an interrupted promotion promotes the published next key instead of creating one', async () => {
    const old = node.current().kid;
    await cli.rotate();
    await store.setSigningKeyState(old, 'retiring', clock.now());
    const starting = await ringOn(store, clock);
    await starting.load();
    const next = (await cli.list()).find((k) => k.kid !== old);
    expect(starting.current().kid).toBe(next?.kid);
    expect((await store.listSigningKeys()).length).toBe(2);
  });

  it('rotate refuses to write when the secret cannot open the existing keys', async () => {
    const wrong = await ringOn(store, clock, { secret: 'w'.repeat(43) });
    await expect(wrong.rotate()).rejects.toThrow(/TOKENWARD_SECRET/);
    expect((await store.listSigningKeys()).length).toBe(1);
  });

  it.each(['ES256', 'RS256'] as const)(
    'rotate publishes and promotes a key of the configured algorithm (%s)',
    async (algorithm) => {
      const switching = await ringOn(store, clock, { algorithm });
      const step = await switching.rotate();
      expect(step).toMatchObject({ action: 'published', next: { alg: algorithm } });
      clock.advance(node.schedule.publishSec);
      expect(await switching.rotate()).toMatchObject({
        action: 'promoted',
        current: { alg: algorithm },
        retiring: { alg: 'EdDSA' },
      });
      await node.reload();
      const token = await tokenFrom(node, clock);
      expect(decodeProtectedHeader(token).alg).toBe(algorithm);
      expect(node.algorithms().sort()).toEqual([algorithm, 'EdDSA'].sort());
    },
  );

  it('list never exposes private material', async () => {
    await cli.rotate();
    const listed = JSON.stringify(await cli.list());
    expect(listed).not.toMatch(/"d"|private|sealed/i);
  });
});
