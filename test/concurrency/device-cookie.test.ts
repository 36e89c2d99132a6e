// A bug the seeded concurrency test found ("device-id-handed-out"): POST /auth/refresh from a
// presenter without a device cookie answered with `Set-Cookie: __Host-tw_dev=<the session's
// device id>` — the victim's device id. Since the grace window trusts that cookie (API.md
// "Tokens": the successor goes "only to the same device that made the rotation"), a thief who
// once presented a stolen refresh token before its victim was from then on "the same device":
// the graced successor of a later stolen token was handed to it. A refresh never sets the device
// cookie now; these tests keep it that way (and the concurrency test fails on any device id
// handed to another actor).
import { afterEach, describe, expect, it } from 'vitest';
import { PASSWORD } from '../support/account.js';
import { createTestInstance, parseSetCookies, type TestInstance } from '../support/instance.js';

const RT = '__Secure-tw_rt';
const DEV = '__Host-tw_dev';
const THIEF_AGENT = 'curl/8.5.0';
const VICTIM_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';

let t: TestInstance | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function post(
  instance: TestInstance,
  path: string,
  cookies: Record<string, string>,
  agent: string,
  json?: unknown,
): Promise<Response> {
  const headers: Record<string, string> = {
    'sec-fetch-site': 'same-origin',
    'user-agent': agent,
    cookie: Object.entries(cookies)
      .map(([k, v]) => `${k}=${v}`)
      .join('; '),
  };
  if (json !== undefined) headers['content-type'] = 'application/json';
  return instance.request(path, {
    method: 'POST',
    headers,
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
}

/** A victim signed up on one browser: its refresh token (what a thief copies) and device id. */
async function victim(instance: TestInstance): Promise<{ email: string; refresh: string; device: string } | null> {
  const email = `victim-${crypto.randomUUID().slice(0, 8)}@example.com`;
  const signup = await post(instance, '/auth/signup', {}, VICTIM_AGENT, { email, password: PASSWORD });
  const cookies = parseSetCookies(signup);
  const refresh = cookies.get(RT)?.value;
  const device = cookies.get(DEV)?.value;
  return signup.status === 201 && refresh && device ? { email, refresh, device } : null;
}

describe('device cookie › a refresh-token thief is never handed the victim’s device id', () => {
  it('a thief presenting a stolen refresh token first (no device cookie) is not sent the victim’s __Host-tw_dev', async () => {
    t = await createTestInstance();
    const v = await victim(t);
    if (!v) return;
    const theft = await post(t, '/auth/refresh', { [RT]: v.refresh }, THIEF_AGENT);
    // Unavoidable: the first presenter of a live token rotates it.
    if (theft.status !== 200) return;
    expect(parseSetCookies(theft).get(DEV)?.value).not.toBe(v.device);
  });

  it('with the leaked device id, a stolen token of the victim’s next session, rotated by the victim, is reuse for the thief', async () => {
    t = await createTestInstance();
    const v = await victim(t);
    if (!v) return;
    // 1. The thief presents the first stolen token before the victim does and keeps what it is sent.
    const first = await post(t, '/auth/refresh', { [RT]: v.refresh }, THIEF_AGENT);
    const leaked = parseSetCookies(first).get(DEV)?.value;
    if (first.status !== 200 || leaked === undefined) return;
    // 2. The victim's next refresh is reuse (the session ends); the victim logs in again on the same browser.
    const reuse = await post(t, '/auth/refresh', { [RT]: v.refresh, [DEV]: v.device }, VICTIM_AGENT);
    if (reuse.status !== 401) return;
    const login = await post(t, '/auth/login', { [DEV]: v.device }, VICTIM_AGENT, {
      email: v.email,
      password: PASSWORD,
    });
    const stolenAgain = parseSetCookies(login).get(RT)?.value;
    if (login.status !== 200 || stolenAgain === undefined) return;
    // 3. The thief copies the new refresh token; the victim refreshes it (rotated by the victim's device).
    const rotated = await post(t, '/auth/refresh', { [RT]: stolenAgain, [DEV]: v.device }, VICTIM_AGENT);
    const victimsToken = parseSetCookies(rotated).get(RT)?.value;
    if (rotated.status !== 200 || victimsToken === undefined) return;
    // 4. Inside the grace window the thief presents the rotated token with the leaked device id:
    // API.md wants 401 refresh_reused; the server hands it the victim's current refresh token.
    const theft = await post(t, '/auth/refresh', { [RT]: stolenAgain, [DEV]: leaked }, THIEF_AGENT);
    expect({
      status: theft.status,
      handedVictimsToken: parseSetCookies(theft).get(RT)?.value === victimsToken,
    }).toEqual({
      status: 401,
      handedVictimsToken: false,
    });
  });
});
