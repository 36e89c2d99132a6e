import { Secret, TOTP } from 'otpauth';
import { expect } from 'vitest';
import { Browser, type TestInstance } from './instance.js';

export const CHROME_MAC =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
export const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0';
export const SAFARI_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1';

export const PASSWORD = 'correct horse battery staple';

/** A browser on a given network address and User-Agent, talking to the real handler. */
export function deviceBrowser(t: TestInstance, options: { ip?: string; userAgent?: string } = {}): Browser {
  const ip = options.ip ?? '203.0.113.7';
  const userAgent = options.userAgent ?? CHROME_MAC;
  return new Browser(async (path, init = {}) => {
    const headers = new Headers(init.headers);
    if (!headers.has('user-agent')) headers.set('user-agent', userAgent);
    return t.tw.fetch(new Request(new URL(path, t.tw.config.publicOrigin), { ...init, headers }), { ip });
  });
}

/** A fresh random email. */
export function freshEmail(): string {
  return `u${crypto.randomUUID().slice(0, 12)}@example.com`;
}

export async function json<T = Record<string, unknown>>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

export async function expectProblem(
  response: Response,
  status: number,
  code: string,
): Promise<Record<string, unknown>> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  const body = await json(response);
  expect(body.code).toBe(code);
  return body;
}

export async function signupAs(
  b: Browser,
  email = freshEmail(),
  password = PASSWORD,
): Promise<{ email: string; userId: string; sessionId: string }> {
  const response = await b.fetch('/auth/signup', { method: 'POST', json: { email, password } });
  expect(response.status).toBe(201);
  const body = await json<{ user: { id: string }; session: { id: string } }>(response);
  return { email, userId: body.user.id, sessionId: body.session.id };
}

export async function loginAs(b: Browser, email: string, password = PASSWORD): Promise<Response> {
  return b.fetch('/auth/login', { method: 'POST', json: { email, password } });
}

/** Logs in and returns the session id (fails the test when it does not answer 200 with a session). */
export async function loginSession(b: Browser, email: string, password = PASSWORD): Promise<string> {
  const response = await loginAs(b, email, password);
  expect(response.status).toBe(200);
  const body = await json<{ session?: { id: string } }>(response);
  expect(body.session?.id).toEqual(expect.any(String));
  return body.session?.id ?? '';
}

export async function stepUp(
  b: Browser,
  credentials: { password?: string; totp?: string } = { password: PASSWORD },
): Promise<Response> {
  return b.fetch('/auth/step-up', { method: 'POST', json: credentials });
}

/** The base32 secret of an otpauth:// URI. */
export function secretOf(otpauthUri: string): string {
  const secret = new URL(otpauthUri).searchParams.get('secret');
  if (!secret) throw new Error('no secret in the otpauth URI');
  return secret;
}

/** The TOTP code of a secret at a time (ms). */
export function totpCode(secret: string, at: number): string {
  return TOTP.generate({ secret: Secret.fromBase32(secret), timestamp: at, digits: 6, period: 30, algorithm: 'SHA1' });
}

/** Waits until `check` passes (fire-and-forget work). */
export async function eventually(check: () => Promise<void> | void, timeoutMs = 2000): Promise<void> {
  const start = Date.now();
  for (;;) {
    try {
      await check();
      return;
    } catch (error) {
      if (Date.now() - start > timeoutMs) throw error;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
