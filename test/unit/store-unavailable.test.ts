import { afterEach, describe, expect, it } from 'vitest';
import type { Store } from '../../src/kernel/ports.js';
import { createMemoryStore } from '../../src/store/index.js';
import { createTestInstance, type TestInstance } from '../support/instance.js';

/** A memory store whose reads fail like a database that is down, stalled or restarting. */
function failingStore(error: () => unknown): { store: Store; fail: (on: boolean) => void } {
  const inner = createMemoryStore();
  let failing = false;
  const store = new Proxy(inner, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (failing && property !== 'close') return Promise.reject(error());
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store, fail: (on) => (failing = on) };
}

const pgError = (code: string, message: string): Error => Object.assign(new Error(message), { code });

describe('store unavailable › 503 problem+json, never 500', () => {
  let t: TestInstance | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  const cases: Array<[string, () => unknown]> = [
    ['statement timeout (57014)', () => pgError('57014', 'canceling statement due to statement timeout')],
    ['server shutting down (57P01)', () => pgError('57P01', 'terminating connection due to administrator command')],
    ['connection failure (08006)', () => pgError('08006', 'connection failure')],
    ['connection refused', () => pgError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432')],
    ['pool connect timeout', () => new Error('timeout exceeded when trying to connect')],
    ['connection terminated', () => new Error('Connection terminated unexpectedly')],
  ];

  for (const [name, error] of cases) {
    it(`${name}: login and /healthz answer 503 service_unavailable`, async () => {
      const { store, fail } = failingStore(error);
      t = await createTestInstance({}, { store, listen: false });
      fail(true);
      const login = await t.request('/auth/login', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
        body: JSON.stringify({ email: 'someone@example.com', password: 'correct horse battery staple' }),
      });
      expect(login.status).toBe(503);
      expect(login.headers.get('content-type')).toBe('application/problem+json');
      const body = (await login.json()) as { code: string; detail: string };
      expect(body.code).toBe('service_unavailable');
      // No database internals leave the server.
      expect(JSON.stringify(body)).not.toMatch(/statement|ECONNREFUSED|5432|terminat/i);
      const health = await t.request('/healthz');
      expect(health.status).toBe(503);
      expect(((await health.json()) as { code: string }).code).toBe('service_unavailable');
    });
  }

  it('an unexpected store error is still a 500 internal_error (not disguised as unavailable)', async () => {
    const { store, fail } = failingStore(() => pgError('23505', 'duplicate key value violates unique constraint'));
    t = await createTestInstance({}, { store, listen: false });
    fail(true);
    const login = await t.request('/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ email: 'someone@example.com', password: 'correct horse battery staple' }),
    });
    expect(login.status).toBe(500);
    expect(((await login.json()) as { code: string }).code).toBe('internal_error');
  });
});
