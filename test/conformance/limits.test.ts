import { afterEach, describe, expect, it } from 'vitest';
import { Browser, createTestInstance, signup, TestClock, type TestInstance } from '../support/instance.js';

let t: TestInstance | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const login = (inst: TestInstance, email: string, password: string, ip = '203.0.113.7') =>
  inst.tw.fetch(
    new Request('http://localhost:3000/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
      body: JSON.stringify({ email, password }),
    }),
    { ip },
  );

describe('limits › login backoff per account', () => {
  it('attempts 1–5 answer 401, the 6th 429 with Retry-After ≥ 1; a success resets it', async () => {
    const clock = new TestClock(Date.now());
    t = await createTestInstance({}, { clock });
    const { email, password } = await signup(new Browser(t.request));
    for (let i = 1; i <= 5; i++) expect((await login(t, email, 'wrong password!')).status, `attempt ${i}`).toBe(401);
    const sixth = await login(t, email, password);
    expect(sixth.status).toBe(429);
    expect(((await sixth.json()) as { code: string }).code).toBe('too_many_attempts');
    expect(Number(sixth.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    clock.advance(1);
    expect((await login(t, email, password)).status).toBe(200);
    for (let i = 1; i <= 5; i++) expect((await login(t, email, 'wrong password!')).status).toBe(401);
  });

  it('the backoff doubles', async () => {
    const clock = new TestClock(Date.now());
    t = await createTestInstance({}, { clock });
    const { email } = await signup(new Browser(t.request));
    for (let i = 0; i < 5; i++) await login(t, email, 'wrong password!');
    expect((await login(t, email, 'x'.repeat(9))).headers.get('retry-after')).toBe('1');
    clock.advance(1);
    expect((await login(t, email, 'wrong password!')).status).toBe(401);
    expect((await login(t, email, 'wrong password!')).headers.get('retry-after')).toBe('2');
  });

  it('unknown emails back off the same way', async () => {
    t = await createTestInstance();
    for (let i = 0; i < 5; i++) expect((await login(t, 'ghost@example.com', 'wrong password!')).status).toBe(401);
    expect((await login(t, 'ghost@example.com', 'wrong password!')).status).toBe(429);
  });
});

describe('limits › per IP', () => {
  it('login attempts per IP: over the limit → 429, other IPs unaffected', async () => {
    t = await createTestInstance({ limitLoginPerIp: '3/15m' });
    for (let i = 0; i < 3; i++)
      expect((await login(t, `u${i}@example.com`, 'wrong password!', '198.51.100.1')).status).toBe(401);
    const over = await login(t, 'u9@example.com', 'wrong password!', '198.51.100.1');
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await login(t, 'u9@example.com', 'wrong password!', '198.51.100.2')).status).toBe(401);
  });

  it('signups per IP: over the limit → 429', async () => {
    t = await createTestInstance({ limitSignupPerIp: '2/1h' });
    const b = () => new Browser(t!.request);
    expect((await signup(b())).response.status).toBe(201);
    expect((await signup(b())).response.status).toBe(201);
    const third = await signup(b());
    expect(third.response.status).toBe(429);
  });
});

describe('limits › concurrent sessions', () => {
  it('the least recently active session is revoked when the limit is exceeded', async () => {
    t = await createTestInstance({ limitConcurrentSessions: 2 });
    const first = new Browser(t.request);
    const { email, password } = await signup(first);
    const second = new Browser(t.request);
    await second.fetch('/auth/login', { method: 'POST', json: { email, password } });
    const third = new Browser(t.request);
    await third.fetch('/auth/login', { method: 'POST', json: { email, password } });
    expect((await first.fetch('/api/profile')).status).toBe(401);
    expect((await second.fetch('/api/profile')).status).toBe(200);
    expect((await third.fetch('/api/profile')).status).toBe(200);
  });
});
