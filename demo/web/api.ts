import { createClient, type SessionInfo, TokenwardClientError } from '../../src/client/index.js';
import { createPasskeys } from '../../src/client/passkeys/index.js';

/** The one SDK instance of the page. It never stores a token: the cookies are HttpOnly. */
export const client = createClient();
/** Passkey helpers (`tokenward/client/passkeys`), on the same client. */
export const passkeys = createPasskeys(client);

export interface Problem {
  status: number;
  code: string;
  detail: string;
  retryAfter?: number;
}

/** Result of a JSON call: the body on success, the problem details otherwise. */
export type Result<T> = { ok: true; status: number; data: T } | { ok: false; status: number; problem: Problem };

/** `client.fetch` with a JSON body; never throws for HTTP errors. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<Result<T>> {
  const request: RequestInit = { method: init.method ?? 'GET' };
  if (init.body !== undefined) {
    request.headers = { 'Content-Type': 'application/json' };
    request.body = JSON.stringify(init.body);
  }
  const res = await client.fetch(path, request);
  const data = res.status === 204 ? undefined : await res.json().catch(() => undefined);
  if (res.ok) return { ok: true, status: res.status, data: data as T };
  const body = (data ?? {}) as { code?: string; detail?: string; title?: string };
  const retryAfter = Number(res.headers.get('Retry-After')) || undefined;
  return {
    ok: false,
    status: res.status,
    problem: {
      status: res.status,
      code: body.code ?? 'unknown',
      detail: body.detail ?? body.title ?? `HTTP ${res.status}`,
      ...(retryAfter ? { retryAfter } : {}),
    },
  };
}

const MESSAGES: Record<string, string> = {
  invalid_credentials: 'That email and password do not match.',
  email_taken: 'An account with this email already exists. Log in instead?',
  weak_password: 'Pick a stronger password: at least 8 characters and not a common one.',
  too_many_attempts: 'Too many attempts.',
  invalid_code: 'That code is not right (or was already used). Try the next one.',
  mfa_pending_invalid: 'The sign-in attempt expired. Enter your password again.',
  csrf_rejected: 'The request was refused as a possible cross-site request.',
  step_up_required: 'Please confirm it is you.',
  unauthenticated: 'You are signed out.',
  invalid_token: 'Your session ended.',
  invalid_passkey: 'That passkey could not be verified. Try again.',
  mfa_enrollment_required: 'Set up a second factor first.',
  last_second_factor: 'This is your last second factor; add another one before removing it.',
  NotAllowedError: 'The passkey request was cancelled or timed out.',
  InvalidStateError: 'This authenticator already holds a passkey for this account.',
  browser_unsupported:
    'This browser cannot keep your login safe (it is too old or retired). Please use a current version of Chrome, Edge, Firefox or Safari.',
  invalid_link: 'This link is invalid, expired or was already used. Ask for a new one.',
  email_unverified:
    'Confirm your email address first: open the link we mailed you. Lost it? "Forgot password?" or a sign-in link proves the address too.',
  account_disabled: 'This account has been disabled by an administrator.',
};

/** A human sentence for a problem (or a thrown SDK error). */
export function describeProblem(problem: Problem | unknown): string {
  if (problem instanceof TokenwardClientError) {
    return describeProblem({
      status: problem.status,
      code: problem.code,
      detail: problem.message,
      ...(problem.retryAfter ? { retryAfter: problem.retryAfter } : {}),
    });
  }
  // WebAuthn refusals from the browser (cancelled, timed out, already registered…).
  if (problem instanceof DOMException) return MESSAGES[problem.name] ?? `Passkey error: ${problem.message}`;
  if (problem instanceof Error) return `Network error: ${problem.message}`;
  const p = problem as Problem;
  const base = MESSAGES[p.code] ?? p.detail;
  return p.code === 'too_many_attempts' && p.retryAfter ? `${base} Try again in ${p.retryAfter} s.` : base;
}

/** Tells the other tabs of this demo that a sign-in finished outside the SDK's own login(). */
const demoChannel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('tokenward-demo') : undefined;
if (demoChannel) demoChannel.onmessage = () => void client.me();

/**
 * Login in two steps (API.md "Login with TOTP"). The SDK's `login()` expects `{user, session}`,
 * so the demo posts itself and then lets `me()` load the session into the SDK's state.
 */
export async function loginWithPassword(
  email: string,
  password: string,
): Promise<Result<{ mfaRequired: true } | SessionInfo>> {
  const result = await api<{ mfaRequired: true } | SessionInfo>('/auth/login', {
    method: 'POST',
    body: { email, password },
  });
  if (result.ok && !('mfaRequired' in result.data)) await completeSignIn();
  return result;
}

export async function loginSecondFactor(code: string): Promise<Result<SessionInfo>> {
  const trimmed = code.trim();
  // Recovery codes look like xxxx-xxxx-xxxx; authenticator codes are 6 digits.
  const body = /^\d{6}$/.test(trimmed.replace(/\s/g, ''))
    ? { code: trimmed.replace(/\s/g, '') }
    : { recoveryCode: trimmed };
  const result = await api<SessionInfo>('/auth/login/totp', { method: 'POST', body });
  if (result.ok) await completeSignIn();
  return result;
}

/**
 * A sign-in that ends like a login (password reset, magic link): `{user, session}` or, when the
 * account has TOTP, `{mfaRequired: true}` (then `loginSecondFactor`).
 */
export async function linkSignIn(
  path: string,
  body: Record<string, string>,
): Promise<Result<{ mfaRequired: true } | SessionInfo>> {
  const result = await api<{ mfaRequired: true } | SessionInfo>(path, { method: 'POST', body });
  if (result.ok && !('mfaRequired' in result.data)) await completeSignIn();
  return result;
}

/** What this demo offers (magic links are opt-in; the outbox exists without SMTP). */
export interface DemoFeatures {
  magicLink: boolean;
  outbox: boolean;
}
let features: Promise<DemoFeatures> | undefined;
export function demoFeatures(): Promise<DemoFeatures> {
  features ??= fetch('/api/demo/features')
    .then((r) => r.json() as Promise<DemoFeatures>)
    .catch(() => ({ magicLink: false, outbox: false }));
  return features;
}

export async function completeSignIn(): Promise<void> {
  await client.me();
  demoChannel?.postMessage('signed-in');
}
