// `browsers.unsupported: 'block'` under concurrency, against real server processes — `npm start` on
// the embedded store, and three nodes on one PostgreSQL and one Redis: a burst of refused signups
// leaves no account on any node, a burst of refused logins spends no attempt of the shared backoff.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, startEmbedded, startSharedState } from '../../support/deployments.js';

const ENV = {
  TOKENWARD_TRUST_PROXY: '1',
  TOKENWARD_LIMIT_LOGIN_PER_IP: '100000/1m',
  TOKENWARD_LIMIT_SIGNUP_PER_IP: '100000/1m',
  TOKENWARD_BROWSERS_UNSUPPORTED: 'block',
};
const PASSWORD = 'correct horse battery staple';
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const UNSUPPORTED = [
  'Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko',
  'Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.17763',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 12_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.0 Mobile/15E148 Safari/604.1',
];
const freshEmail = (): string => `bc-${crypto.randomUUID().slice(0, 12)}@example.com`;

async function post(
  d: Deployment,
  i: number,
  path: string,
  body: unknown,
  userAgent: string,
): Promise<{ status: number; code: string | undefined }> {
  const response = await fetch(new URL(path, d.node(i).url), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'sec-fetch-site': 'same-origin',
      'user-agent': userAgent,
      'x-forwarded-for': `198.51.100.${(i % 200) + 1}`,
    },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const text = await response.text();
  return { status: response.status, code: text ? (JSON.parse(text) as { code?: string }).code : undefined };
}

const deployments: Array<[string, () => Promise<Deployment | null>]> = [
  ['embedded', () => startEmbedded(ENV)],
  ['postgres+redis ×3', () => startSharedState(ENV, 3)],
];

describe.each(deployments)('browser check › block under concurrency (%s)', (_name, start) => {
  let d: Deployment | null = null;
  beforeAll(async () => {
    d = await start();
  }, 120_000);
  afterAll(async () => {
    await d?.close();
  });
  const deployment = (): Deployment => {
    if (d === null)
      throw new Error('TOKENWARD_TEST_DATABASE_URL is not set: run the suite with npm test (it starts PostgreSQL)');
    return d;
  };

  it('60 signups at once from unsupported browsers, over every node: all 400 browser_unsupported, no account left', async () => {
    const shared = freshEmail();
    const emails = Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? shared : freshEmail()));
    const answers = await Promise.all(
      emails.map((email, i) =>
        post(deployment(), i, '/auth/signup', { email, password: PASSWORD }, UNSUPPORTED[i % UNSUPPORTED.length] ?? ''),
      ),
    );
    expect(answers.filter((a) => a.status === 400 && a.code === 'browser_unsupported')).toHaveLength(60);
    // Every address is still free on every node: a current browser signs each up (201, never 409).
    const distinct = [...new Set(emails)];
    const after = await Promise.all(
      distinct.map((email, i) => post(deployment(), i, '/auth/signup', { email, password: PASSWORD }, CHROME)),
    );
    expect(after.map((a) => a.status)).toEqual(distinct.map(() => 201));
  });

  it('80 logins at once from unsupported browsers (right and wrong passwords): all refused, no attempt of the backoff spent', async () => {
    const email = freshEmail();
    expect((await post(deployment(), 0, '/auth/signup', { email, password: PASSWORD }, CHROME)).status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 80 }, (_, i) =>
        post(
          deployment(),
          i,
          '/auth/login',
          { email, password: i % 8 === 0 ? PASSWORD : `wrong password ${i}` },
          UNSUPPORTED[i % UNSUPPORTED.length] ?? '',
        ),
      ),
    );
    expect(answers.filter((a) => a.status === 400 && a.code === 'browser_unsupported')).toHaveLength(80);
    // The backoff is untouched: five wrong passwords from a current browser are evaluated (401),
    // the sixth backs off (429) — had the burst been counted, the first would already be 429.
    for (let i = 0; i < 5; i++)
      expect((await post(deployment(), i, '/auth/login', { email, password: `nope ${i}` }, CHROME)).status).toBe(401);
    expect((await post(deployment(), 5, '/auth/login', { email, password: 'nope 5' }, CHROME)).status).toBe(429);
  });
});
