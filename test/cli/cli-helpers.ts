import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { decodeProtectedHeader } from 'jose';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/tokenward.js', import.meta.url));

/** The result of one `tokenward` run. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The parent environment without any TOKENWARD_* setting (so a test states all of its own). */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('TOKENWARD_') && name !== 'PORT') env[name] = value;
  }
  return { ...env, ...extra };
}

/** Runs `bin/tokenward.js <args>` (what `npx tokenward` runs) as a real process. */
export function runTokenward(
  args: string[],
  env: Record<string, string>,
  options: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? ROOT,
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A session obtained through the token endpoint. */
export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

export const TEST_PASSWORD = 'correct horse battery staple';

/** Signs a user up on `url` and returns a token pair from `POST /auth/token` (password grant). */
export async function signupWithTokens(
  url: string,
  email = `u${crypto.randomUUID().slice(0, 12)}@example.com`,
): Promise<TokenPair> {
  const signup = await fetch(`${url}/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'sec-fetch-site': 'same-origin' },
    body: JSON.stringify({ email, password: TEST_PASSWORD }),
  });
  if (signup.status !== 201) throw new Error(`signup: ${signup.status} ${await signup.text()}`);
  return tokenRequest(url, { grant_type: 'password', username: email, password: TEST_PASSWORD });
}

/** `POST /auth/token` with a refresh-token grant: a new access token signed by the node's current key. */
export function refreshTokens(url: string, refreshToken: string): Promise<TokenPair> {
  return tokenRequest(url, { grant_type: 'refresh_token', refresh_token: refreshToken });
}

async function tokenRequest(url: string, form: Record<string, string>): Promise<TokenPair> {
  const response = await fetch(`${url}/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  const body = (await response.json()) as { access_token?: string; refresh_token?: string };
  if (response.status !== 200 || !body.access_token || !body.refresh_token)
    throw new Error(`token endpoint: ${response.status} ${JSON.stringify(body)}`);
  return { accessToken: body.access_token, refreshToken: body.refresh_token };
}

/** Status of `GET /auth/me` with the bearer token (200 when the node verifies it). */
export async function meStatus(url: string, accessToken: string): Promise<number> {
  const response = await fetch(`${url}/auth/me`, { headers: { authorization: `Bearer ${accessToken}` } });
  await response.arrayBuffer();
  return response.status;
}

/** The kids published in the node's JWKS, with its Cache-Control header. */
export async function jwksOf(url: string): Promise<{ kids: string[]; cacheControl: string | null }> {
  const response = await fetch(`${url}/.well-known/jwks.json`);
  const body = (await response.json()) as { keys: { kid: string }[] };
  return { kids: body.keys.map((k) => k.kid), cacheControl: response.headers.get('cache-control') };
}

/** The `kid` header of a JWS. */
export function kidOf(token: string): string {
  return String(decodeProtectedHeader(token).kid);
}

/** Polls `check` every 250 ms until it returns true (fails after `timeoutMs`). */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Parses `keys list --json`. */
export function parseKeyList(run: CliRun): { kid: string; alg: string; state: string; dueAt: number | null }[] {
  if (run.code !== 0) throw new Error(`keys list failed (${run.code}): ${run.stderr}`);
  return JSON.parse(run.stdout) as { kid: string; alg: string; state: string; dueAt: number | null }[];
}
