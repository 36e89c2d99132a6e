// Passkeys against real server processes: `npm start` on the embedded store, and two nodes on one
// PostgreSQL and one Redis behind no sticky load balancer — a challenge issued by one node is
// redeemed on the other, and the attacks are sent many at once, spread over the nodes.
// requireMfa is on: the passkey is the account's second factor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, freshEmail, json, PASSWORD } from '../../support/account.js';
import { type Deployment, startEmbedded, startSharedState } from '../../support/deployments.js';
import { Browser } from '../../support/instance.js';
import type { CreationOptions, RequestOptions } from './soft-authenticator.js';
import { SoftAuthenticator } from './soft-authenticator.js';

const ENV = {
  TOKENWARD_REQUIRE_MFA: 'true',
  TOKENWARD_LIMIT_LOGIN_PER_IP: '100000/1m',
  TOKENWARD_LIMIT_SIGNUP_PER_IP: '100000/1m',
};

/** A cookie-holding client whose next request goes to the node it is told. */
class NodeClient extends Browser {
  node = 0;
  constructor(readonly deployment: Deployment) {
    super((path, init) =>
      fetch(new URL(path, deployment.node(this.node).url), { ...init, signal: AbortSignal.timeout(60_000) }),
    );
  }
  on(node: number): this {
    this.node = node;
    return this;
  }
  /** The same request `n` times at once, round robin over the nodes, with the cookies as they are now. */
  burst(n: number, path: string, init: RequestInit & { json?: unknown }): Promise<Response[]> {
    const cookie = this.cookieHeader();
    return Promise.all(
      Array.from({ length: n }, (_, i) => {
        const headers = new Headers(init.headers);
        headers.set('cookie', cookie);
        headers.set('sec-fetch-site', 'same-origin');
        if (init.json !== undefined) headers.set('content-type', 'application/json');
        return fetch(new URL(path, this.deployment.node(i).url), {
          method: init.method ?? 'POST',
          headers,
          ...(init.json === undefined ? {} : { body: JSON.stringify(init.json) }),
          signal: AbortSignal.timeout(60_000),
        });
      }),
    );
  }
}

const deployments: Array<[string, () => Promise<Deployment | null>]> = [
  ['embedded', () => startEmbedded(ENV)],
  ['postgres+redis ×2', () => startSharedState(ENV, 2)],
];

for (const [name, start] of deployments) {
  describe(`passkeys on real processes (${name})`, { timeout: 120_000 }, () => {
    let d: Deployment | null = null;
    beforeAll(async () => {
      d = await start();
    }, 120_000);
    afterAll(async () => {
      await d?.close();
    });

    const deployment = (): Deployment => {
      expect(d, 'TOKENWARD_TEST_DATABASE_URL is not set (npm test sets it)').not.toBeNull();
      return d as Deployment;
    };
    const last = () => deployment().nodes.length - 1;

    /** Signs up on node 0 and registers a passkey: options from node 0, the response to the last node. */
    async function enrolled(): Promise<{ email: string; auth: SoftAuthenticator; passkeyId: string }> {
      const c = new NodeClient(deployment());
      const email = freshEmail();
      expect(
        (await c.on(0).fetch('/auth/signup', { method: 'POST', json: { email, password: PASSWORD } })).status,
      ).toBe(201);
      expect((await c.on(last()).fetch('/auth/step-up', { method: 'POST', json: { password: PASSWORD } })).status).toBe(
        200,
      );
      const options = await json<CreationOptions>(
        await c.on(0).fetch('/auth/passkeys/register/options', { method: 'POST', json: { name: 'Key' } }),
      );
      const auth = new SoftAuthenticator({ origin: 'http://localhost:3000', rpId: 'localhost' });
      const registered = await c
        .on(last())
        .fetch('/auth/passkeys/register', { method: 'POST', json: { credential: auth.create(options) } });
      expect(registered.status).toBe(201);
      return { email, auth, passkeyId: (await json<{ passkey: { id: string } }>(registered)).passkey.id };
    }

    /** Signs in with the passkey: options on node 0, the assertion on the last node. */
    async function signedIn(auth: SoftAuthenticator, email?: string): Promise<NodeClient> {
      const c = new NodeClient(deployment());
      const options = await json<RequestOptions>(
        await c.on(0).fetch('/auth/passkeys/login/options', { method: 'POST', json: email ? { email } : {} }),
      );
      const response = await c
        .on(last())
        .fetch('/auth/passkeys/login', { method: 'POST', json: { credential: auth.get(options) } });
      expect(response.status).toBe(200);
      return c;
    }

    it('a challenge issued on one node is redeemed on another: registration, sign-in with and without an email', async () => {
      const { email, auth } = await enrolled();
      const c = await signedIn(auth);
      expect((await c.on(0).fetch('/api/profile')).status).toBe(200);
      const byEmail = await signedIn(auth, email);
      expect((await byEmail.on(last()).fetch('/api/profile')).status).toBe(200);
    });

    it('one assertion sent 20 times at once over the nodes starts exactly one session', async () => {
      const { auth } = await enrolled();
      const c = new NodeClient(deployment());
      const options = await json<RequestOptions>(
        await c.on(0).fetch('/auth/passkeys/login/options', { method: 'POST', json: {} }),
      );
      const answers = await c.burst(20, '/auth/passkeys/login', { json: { credential: auth.get(options) } });
      expect(answers.map((a) => a.status).filter((s) => s === 200)).toHaveLength(1);
      for (const a of answers.filter((x) => x.status !== 200)) await expectProblem(a, 401, 'invalid_credentials');
    });

    it('a passkey step-up on one node authorises exactly one of 10 transfers sent at once over the nodes', async () => {
      const { auth } = await enrolled();
      const c = await signedIn(auth);
      const options = await json<RequestOptions>(
        await c.on(0).fetch('/auth/step-up/passkey/options', { method: 'POST' }),
      );
      const granted = await c
        .on(last())
        .fetch('/auth/step-up', { method: 'POST', json: { passkey: auth.get(options) } });
      expect(granted.status).toBe(200);
      const answers = await c.burst(10, '/api/transfer', { json: { amount: 5, to: 'bob' } });
      expect(answers.map((a) => a.status).filter((s) => s === 200)).toHaveLength(1);
      for (const a of answers.filter((x) => x.status !== 200)) await expectProblem(a, 401, 'step_up_required');
    });

    it('the last two passkeys deleted at once on two nodes: one goes, the last stays (409 last_second_factor)', async () => {
      const { email, auth, passkeyId } = await enrolled();
      const owner = await signedIn(auth, email);
      // A second passkey, added through the full session.
      const second = new SoftAuthenticator({ origin: 'http://localhost:3000', rpId: 'localhost' });
      expect((await owner.on(0).fetch('/auth/step-up', { method: 'POST', json: { password: PASSWORD } })).status).toBe(
        200,
      );
      const creation = await json<CreationOptions>(
        await owner.on(last()).fetch('/auth/passkeys/register/options', { method: 'POST', json: {} }),
      );
      const added = await owner
        .on(0)
        .fetch('/auth/passkeys/register', { method: 'POST', json: { credential: second.create(creation) } });
      expect(added.status).toBe(201);
      const secondId = (await json<{ passkey: { id: string } }>(added)).passkey.id;
      // Two sessions with a step-up each, deleting one passkey each, at the same moment on two nodes.
      const clients = [await signedIn(auth), await signedIn(auth)];
      for (const c of clients)
        expect((await c.on(0).fetch('/auth/step-up', { method: 'POST', json: { password: PASSWORD } })).status).toBe(
          200,
        );
      const [a, b] = await Promise.all([
        clients[0]?.on(0).fetch(`/auth/passkeys/${passkeyId}`, { method: 'DELETE' }),
        clients[1]?.on(last()).fetch(`/auth/passkeys/${secondId}`, { method: 'DELETE' }),
      ]);
      expect([a?.status, b?.status].sort()).toEqual([204, 409]);
      const left = await json<{ passkeys: unknown[] }>(await owner.on(last()).fetch('/auth/passkeys'));
      expect(left.passkeys).toHaveLength(1);
    });
  });
}
