import { createHmac } from 'node:crypto';
import { base64url, exportJWK, exportSPKI, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser, createTestInstance, signup, type TestInstance } from '../support/instance.js';

let t: TestInstance;
let valid: string;
let claims: Record<string, unknown>;
let header: Record<string, unknown>;
beforeAll(async () => {
  t = await createTestInstance();
  const b = new Browser(t.request);
  await signup(b);
  valid = b.cookies.get('__Host-tw_at') as string;
  const [h, p] = valid.split('.') as [string, string];
  header = JSON.parse(Buffer.from(h, 'base64url').toString());
  claims = JSON.parse(Buffer.from(p, 'base64url').toString());
});
afterAll(async () => {
  await t.close();
});

const enc = (o: unknown) => base64url.encode(JSON.stringify(o));
const status = async (token: string) =>
  (await t.request('/api/profile', { headers: { cookie: `__Host-tw_at=${token}` } })).status;
const hs256 = (h: unknown, p: unknown, secret: string | Buffer) => {
  const input = `${enc(h)}.${enc(p)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
};

describe('server › forged access tokens are rejected (401 invalid_token)', () => {
  it('positive control: the real token passes', async () => {
    expect(await status(valid)).toBe(200);
  });
  it.each(['none', 'None', 'NONE'])('alg %s, with and without a signature', async (alg) => {
    const unsigned = `${enc({ ...header, alg })}.${enc(claims)}.`;
    expect(await status(unsigned)).toBe(401);
    expect(await status(`${unsigned}${valid.split('.')[2]}`)).toBe(401);
  });
  it('stripped signature', async () => {
    expect(await status(valid.split('.').slice(0, 2).join('.'))).toBe(401);
    expect(await status(`${valid.split('.').slice(0, 2).join('.')}.`)).toBe(401);
  });
  it('HS256 signed with the public key (JWK x, JWK JSON, PEM)', async () => {
    const jwks = (await (await t.request('/.well-known/jwks.json')).json()) as { keys: Array<{ x: string }> };
    const jwk = jwks.keys[0] as { x: string };
    for (const secret of [Buffer.from(jwk.x, 'base64url'), JSON.stringify(jwk), jwk.x]) {
      expect(await status(hs256({ ...header, alg: 'HS256' }, claims, secret))).toBe(401);
    }
  });
  it('signed by an attacker key with the right kid, and with an embedded jwk', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA');
    const forged = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: header.kid as string })
      .sign(privateKey);
    expect(await status(forged)).toBe(401);
    const embedded = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: header.kid as string, jwk: await exportJWK(publicKey) })
      .sign(privateKey);
    expect(await status(embedded)).toBe(401);
    const jku = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'x', jku: 'https://evil.example/jwks' })
      .sign(privateKey);
    expect(await status(jku)).toBe(401);
    expect(await exportSPKI(publicKey)).toContain('BEGIN PUBLIC KEY');
  });
  it('modified payload with the original signature', async () => {
    const [h, , s] = valid.split('.');
    expect(await status(`${h}.${enc({ ...claims, sub: 'admin' })}.${s}`)).toBe(401);
  });
  it.each([
    ['kid traversal', { kid: '../../../../dev/null' }],
    ['kid SQL', { kid: "' OR 1=1 --" }],
    ['typ JWT', { typ: 'JWT' }],
    ['no typ', { typ: undefined }],
    ['crit', { crit: ['exp'] }],
    ['x5u', { x5u: 'https://evil.example/cert' }],
  ])('header: %s', async (_name, change) => {
    const h = { ...header, ...change };
    // Unsigned variants: the header check must reject before any key lookup.
    const [, p, s] = valid.split('.');
    expect(await status(`${enc(h)}.${p}.${s}`)).toBe(401);
  });
  it('whitespace or padding inside the token', async () => {
    expect(await status(`${valid}=`)).toBe(401);
    expect(await status(valid.replace('.', ' .'))).toBe(401);
  });
});
