import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, createTestInstance, signup, type TestInstance } from '../support/instance.js';

let t: TestInstance;
beforeAll(async () => {
  t = await createTestInstance();
});
afterAll(async () => {
  await t.close();
});

const send = (
  path: string,
  body: NonNullable<RequestInit['body']> | null,
  headers: Record<string, string> = { 'content-type': 'application/json' },
) =>
  t.request(path, {
    method: 'POST',
    headers: { 'sec-fetch-site': 'same-origin', ...headers },
    ...(body === null ? {} : { body }),
  });

async function expectProblem(res: Response, status: number, code: string): Promise<void> {
  expect(res.status).toBe(status);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  const text = await res.text();
  expect(JSON.parse(text).code).toBe(code);
  expect(text).not.toMatch(/at .*\.(ts|js):\d+|SQLITE|sqlite|Error:/);
}

describe('hostile input never gives 500 and changes nothing', () => {
  it.each(['/auth/signup', '/auth/login'])('%s: 415 for a non-JSON content type', async (path) => {
    await expectProblem(
      await send(path, 'email=a&password=b', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
    );
    await expectProblem(await send(path, '{}', { 'content-type': 'text/plain' }), 415, 'unsupported_media_type');
    await expectProblem(
      await send(path, '{}', { 'content-type': 'application/json; charset=latin1' }),
      415,
      'unsupported_media_type',
    );
    await expectProblem(await send(path, '{"email":"a@b.co"}', {}), 415, 'unsupported_media_type');
  });

  it.each(['/auth/signup', '/auth/login'])('%s: 413 over 64 KiB', async (path) => {
    await expectProblem(
      await send(path, JSON.stringify({ email: 'a@b.co', password: 'x'.repeat(70_000) })),
      413,
      'payload_too_large',
    );
  });

  it.each([
    ['malformed JSON', '{"email": '],
    ['an array', '[1,2]'],
    ['a string', '"hello"'],
    ['null', 'null'],
    ['a number email', '{"email": 1, "password": "abcdefghij"}'],
    ['an object password', '{"email": "a@b.co", "password": {"$ne": null}}'],
    ['an array password', '{"email": "a@b.co", "password": ["a"]}'],
    ['missing fields', '{}'],
    ['NUL in the email', '{"email": "a\\u0000@b.co", "password": "abcdefghij"}'],
    ['a huge email', JSON.stringify({ email: `${'a'.repeat(5000)}@b.co`, password: 'abcdefghij' })],
    ['invalid UTF-8', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
  ])('signup with %s: 400 invalid_request', async (_name, body) => {
    await expectProblem(await send('/auth/signup', body as NonNullable<RequestInit['body']>), 400, 'invalid_request');
  });

  it('prototype keys are ignored and pollute nothing', async () => {
    const res = await send(
      '/auth/signup',
      '{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}, "email": "proto@example.com", "password": "a fine long password"}',
    );
    expect(res.status).toBe(201);
    expect(({} as Record<string, unknown>).admin).toBeUndefined();
    const body = (await res.json()) as { user: Record<string, unknown> };
    expect(body.user.admin).toBeUndefined();
  });

  it('a failed signup leaves no user behind', async () => {
    await send('/auth/signup', JSON.stringify({ email: 'partial@example.com', password: 'short' }));
    expect(await t.tw.context.store.findUserByEmail('partial@example.com')).toBeNull();
  });

  it('NUL bytes inside a password are refused, not truncated', async () => {
    const res = await send(
      '/auth/signup',
      JSON.stringify({ email: 'nul@example.com', password: 'abcdefgh\u0000ijkl' }),
    );
    expect(res.status).toBe(422);
  });

  it('oversized and garbage tokens: 401 fast, never 500', async () => {
    const cases = [
      'x'.repeat(9000),
      'a.b.c',
      'eyJ.eyJ.',
      '...',
      'e30.e30.e30',
      `${'A'.repeat(3000)}.${'A'.repeat(3000)}.A`,
    ];
    for (const token of cases) {
      const started = performance.now();
      const res = await t.request('/api/profile', { headers: { authorization: `Bearer ${token}` } });
      expect([400, 401, 431]).toContain(res.status);
      expect(performance.now() - started).toBeLessThan(200);
      const viaCookie = await t.request('/api/profile', { headers: { cookie: `__Host-tw_at=${token}` } });
      expect([400, 401, 431]).toContain(viaCookie.status);
    }
  });

  it('weird Authorization headers are 401', async () => {
    for (const value of ['Bearer', 'Bearer  ', 'Basic Zm9vOmJhcg==', 'Bearer a b', 'bearer\ttoken']) {
      const res = await t.request('/api/profile', { headers: { authorization: value } });
      expect(res.status, value).toBe(401);
    }
  });

  it('a huge cookie header and garbage cookies do not crash the server', async () => {
    const res = await t.request('/auth/refresh', {
      method: 'POST',
      headers: { cookie: `__Secure-tw_rt=${'z'.repeat(5000)}; ;;==; a=b`, 'sec-fetch-site': 'same-origin' },
    });
    await expectProblem(res, 401, 'refresh_invalid');
  });

  it('notes: text of the wrong type or too long is 400', async () => {
    const b = new Browser(t.request);
    await signup(b);
    for (const body of [{ text: 5 }, { text: '' }, { text: 'x'.repeat(3000) }, {}]) {
      const res = await b.fetch('/api/notes', { method: 'POST', json: body });
      expect(res.status).toBe(400);
    }
  });

  it('identical failures give byte-identical bodies', async () => {
    const a = await send('/auth/login', JSON.stringify({ email: 'same@example.com', password: 'abcdefghij' }));
    const b = await send('/auth/login', JSON.stringify({ email: 'same@example.com', password: 'abcdefghij' }));
    expect(await a.text()).toBe(await b.text());
  });
});
