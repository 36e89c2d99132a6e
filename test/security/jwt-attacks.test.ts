/**
 * The JWT attack catalogue (RFC 7515/7519/8725/9068, API.md "Tokens"): one test per vector, run
 * against both verification paths that share the rules:
 *   - issuer: `verifyAccessToken` as the issuing server calls it (keys in memory, no leeway);
 *   - verifier: `createVerifier` (tokenward/verify) with the JWKS served by an in-test fetch stub.
 * Every negative test asserts the exact code and reason; the positive controls show the same
 * setup accepts a genuine token, so a rejection is the rule at work and not a broken fixture.
 */
import {
  base64url,
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  importPKCS8,
  type JWK,
  jwtVerify,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type SigningAlgorithm,
  type VerificationKey,
  verifyAccessToken,
} from '../../src/kernel/tokens/access-token.js';
import { createVerifier, type Verifier, VerifyError } from '../../src/verify/index.js';

const ISSUER = 'https://auth.example.test';
const AUDIENCE = 'https://api.example.test';
const JWKS_URL = 'https://auth.example.test/.well-known/jwks.json';
/** Frozen clock: 2030-01-01T00:00:00Z. */
const NOW = Date.UTC(2030, 0, 1);
const NOW_SEC = NOW / 1000;

/** Self-signed Ed25519 certificate (CN=attacker.example) and its key: an attacker's x5c. */
const ATTACKER_CERT_DER_B64 =
  'MIIBSjCB/aADAgECAhRj5FaLRYT64g0BsbDWjf2PFHpzkjAFBgMrZXAwGzEZMBcGA1UEAwwQYXR0YWNrZXIuZXhhbXBsZTAeFw0yNjExMjMwMjQ0MTNaFw0zNjExMjAwMjQ0MTNaMBsxGTAXBgNVBAMMEGF0dGFja2VyLmV4YW1wbGUwKjAFBgMrZXADIQAKY+ut01iC69nXN4lYX1UX7nF9HQDw3Y+sspXk8J3bo6NTMFEwHQYDVR0OBBYEFD/QzCEOqFyfEfeJDPQuV+U2dk+4MB8GA1UdIwQYMBaAFD/QzCEOqFyfEfeJDPQuV+U2dk+4MA8GA1UdEwEB/wQFMAMBAf8wBQYDK2VwA0EANnB4qWkF0hGtNK+5bTHoTiYuCkEVUr9bVuCsoNqjvzEp/afaQMIkUR8N1Bd4Dpc9tHZzp21//qBoFrIe3tqPBA==';
const ATTACKER_CERT_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHkzvrXlINTVmUeGdWtQfpqcgYf+3k5t0dDb0LJ93wQZ
-----END PRIVATE KEY-----`;

const KID = { ed: 'issuer-ed', es: 'issuer-es', rs: 'issuer-rs' } as const;

interface KeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}
let issuerEd: KeyPair;
let issuerEs: KeyPair;
let issuerRs: KeyPair;
let attackerEd: KeyPair;
let attackerEs: KeyPair;
let attackerCertKey: CryptoKey;
let publishedJwks: { keys: JWK[] };

// ---------------------------------------------------------------------------------------------
// Token forging: raw header and payload JSON, signed with Web Crypto (jose's signers refuse many
// of these headers, which is exactly what an attacker does not care about).
// ---------------------------------------------------------------------------------------------

type Signer =
  | { alg: 'EdDSA' | 'ES256' | 'RS256'; key: CryptoKey }
  | { alg: 'HS256' | 'HS384' | 'HS512'; secret: Uint8Array };

const text = new TextEncoder();
const b64u = (value: Uint8Array | string): string =>
  base64url.encode(typeof value === 'string' ? text.encode(value) : value);

async function signBytes(signer: Signer, input: Uint8Array): Promise<Uint8Array> {
  const data = input as Uint8Array<ArrayBuffer>;
  switch (signer.alg) {
    case 'EdDSA':
      return new Uint8Array(await crypto.subtle.sign('Ed25519', signer.key, data));
    case 'ES256':
      return new Uint8Array(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, signer.key, data));
    case 'RS256':
      return new Uint8Array(await crypto.subtle.sign('RSASSA-PKCS1-v1_5', signer.key, data));
    default: {
      const hash = `SHA-${signer.alg.slice(2)}`;
      const key = await crypto.subtle.importKey(
        'raw',
        signer.secret as Uint8Array<ArrayBuffer>,
        { name: 'HMAC', hash },
        false,
        ['sign'],
      );
      return new Uint8Array(await crypto.subtle.sign('HMAC', key, data));
    }
  }
}

/** Compact JWS over the exact JSON given (a string payload is used verbatim). */
async function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown> | unknown[] | string,
  signer: Signer,
): Promise<string> {
  const input = `${b64u(JSON.stringify(header))}.${b64u(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  return `${input}.${b64u(await signBytes(signer, text.encode(input)))}`;
}

function claims(overrides: Record<string, unknown> = {}, drop: string[] = []): Record<string, unknown> {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user-1',
    sid: 'session-1',
    jti: 'jti-1',
    iat: NOW_SEC - 10,
    exp: NOW_SEC + 600,
    auth_time: NOW_SEC - 10,
    amr: ['pwd'],
    ...overrides,
  };
  for (const name of drop) delete base[name];
  return base;
}

const ed = (): Signer => ({ alg: 'EdDSA', key: issuerEd.privateKey });
const es = (): Signer => ({ alg: 'ES256', key: issuerEs.privateKey });
const rs = (): Signer => ({ alg: 'RS256', key: issuerRs.privateKey });
const header = (alg: string, kid: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  alg,
  typ: 'at+jwt',
  kid,
  ...extra,
});

/** A genuine access token of the issuer (EdDSA unless said otherwise). */
async function genuine(payload = claims(), signer: Signer = ed()): Promise<string> {
  const kid = signer.alg === 'EdDSA' ? KID.ed : signer.alg === 'ES256' ? KID.es : KID.rs;
  return forge(header(signer.alg, kid), payload, signer);
}

// ---------------------------------------------------------------------------------------------
// The two targets
// ---------------------------------------------------------------------------------------------

type Outcome = { ok: true } | { ok: false; code: string; reason: string };

interface Target {
  name: 'issuer' | 'verifier';
  check(token: string, algorithms?: readonly SigningAlgorithm[]): Promise<Outcome>;
  /** Key lookups (issuer) or JWKS requests (verifier) so far: proves what was rejected before any lookup. */
  lookups(): number;
  /** Every URL the target fetched (never anything but the configured JWKS). */
  fetchedUrls(): string[];
}

function issuerTarget(): Target {
  let lookups = 0;
  return {
    name: 'issuer',
    async check(token, algorithms = ['EdDSA']) {
      const keys = new Map<string, VerificationKey>([
        [KID.ed, { alg: 'EdDSA', key: issuerEd.publicKey }],
        [KID.es, { alg: 'ES256', key: issuerEs.publicKey }],
        [KID.rs, { alg: 'RS256', key: issuerRs.publicKey }],
      ]);
      const result = await verifyAccessToken(token, {
        issuer: ISSUER,
        audience: AUDIENCE,
        algorithms,
        keyFor: (kid) => {
          lookups++;
          return keys.get(kid);
        },
        now: NOW,
        clockToleranceSec: 0,
      });
      return result.ok ? { ok: true } : { ok: false, code: 'invalid_token', reason: result.reason };
    },
    lookups: () => lookups,
    fetchedUrls: () => [],
  };
}

function verifierTarget(): Target {
  const urls: string[] = [];
  const verifiers = new Map<string, Verifier>();
  const fetchStub = async (url: string): Promise<Response> => {
    urls.push(url);
    if (url !== JWKS_URL) return new Response('not found', { status: 404 });
    return new Response(JSON.stringify(publishedJwks), {
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
    });
  };
  return {
    name: 'verifier',
    async check(token, algorithms = ['EdDSA']) {
      const key = algorithms.join(',');
      let verifier = verifiers.get(key);
      if (verifier === undefined) {
        verifier = createVerifier({
          issuer: ISSUER,
          audience: AUDIENCE,
          jwksUrl: JWKS_URL,
          algorithms,
          fetch: fetchStub,
          now: () => NOW,
        });
        verifiers.set(key, verifier);
      }
      try {
        await verifier.verify(token);
        return { ok: true };
      } catch (error) {
        if (!(error instanceof VerifyError)) throw error;
        return { ok: false, code: error.code, reason: error.reason };
      }
    },
    lookups: () => urls.length,
    fetchedUrls: () => [...urls],
  };
}

const rejected = (reason: string): Outcome => ({ ok: false, code: 'invalid_token', reason });
const ALL: readonly SigningAlgorithm[] = ['EdDSA', 'ES256', 'RS256'];

beforeAll(async () => {
  [issuerEd, issuerEs, issuerRs, attackerEd, attackerEs] = await Promise.all([
    generateKeyPair('EdDSA', { extractable: true }),
    generateKeyPair('ES256', { extractable: true }),
    generateKeyPair('RS256', { extractable: true, modulusLength: 2048 }),
    generateKeyPair('EdDSA', { extractable: true }),
    generateKeyPair('ES256', { extractable: true }),
  ]);
  attackerCertKey = await importPKCS8(ATTACKER_CERT_KEY_PEM, 'EdDSA');
  const publish = async (pair: KeyPair, kid: string, alg: string): Promise<JWK> => ({
    ...(await exportJWK(pair.publicKey)),
    kid,
    alg,
    use: 'sig',
  });
  publishedJwks = {
    keys: await Promise.all([
      publish(issuerEd, KID.ed, 'EdDSA'),
      publish(issuerEs, KID.es, 'ES256'),
      publish(issuerRs, KID.rs, 'RS256'),
    ]),
  };
});

describe.each([
  { kind: 'issuer', make: issuerTarget },
  { kind: 'verifier', make: verifierTarget },
])('JWT attack catalogue › $kind', ({ kind, make }) => {
  const target = make();
  const expectOutcome = async (
    token: string | Promise<string>,
    expected: Outcome,
    algorithms?: readonly SigningAlgorithm[],
  ): Promise<void> => {
    expect(await target.check(await token, algorithms)).toEqual(expected);
  };

  describe('positive controls (the suite can fail)', () => {
    it('accepts a genuine EdDSA access token', async () => {
      await expectOutcome(genuine(), { ok: true });
    });
    it('accepts a genuine ES256 access token when ES256 is configured', async () => {
      await expectOutcome(genuine(claims(), es()), { ok: true }, ['ES256']);
    });
    it('accepts a genuine RS256 access token when RS256 is configured', async () => {
      await expectOutcome(genuine(claims(), rs()), { ok: true }, ['RS256']);
    });
    it('accepts typ "application/at+jwt" (RFC 9068 §4)', async () => {
      await expectOutcome(forge(header('EdDSA', KID.ed, { typ: 'application/at+jwt' }), claims(), ed()), { ok: true });
    });
    it('accepts typ "AT+JWT" (media types compare case-insensitively)', async () => {
      await expectOutcome(forge(header('EdDSA', KID.ed, { typ: 'AT+JWT' }), claims(), ed()), { ok: true });
    });
    it('accepts an aud array that contains our audience', async () => {
      await expectOutcome(genuine(claims({ aud: ['https://other.example.test', AUDIENCE] })), { ok: true });
    });
    it(`${kind === 'issuer' ? 'rejects' : 'accepts'} a token whose exp is exactly now (issuer: no leeway; verifier: 30 s)`, async () => {
      await expectOutcome(genuine(claims({ exp: NOW_SEC })), kind === 'issuer' ? rejected('expired') : { ok: true });
    });
  });

  describe('alg "none" (RFC 8725 §2.1, §3.1)', () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      it(`rejects alg "${alg}" without a signature (header.payload.) as malformed`, async () => {
        const token = `${b64u(JSON.stringify(header(alg, KID.ed)))}.${b64u(JSON.stringify(claims()))}.`;
        const before = target.lookups();
        await expectOutcome(token, rejected('malformed'));
        expect(target.lookups()).toBe(before);
      });
      it(`rejects alg "${alg}" with a signature as a disallowed algorithm`, async () => {
        await expectOutcome(forge(header(alg, KID.ed), claims(), ed()), rejected('algorithm'));
      });
    }
    it('rejects a genuine token with its signature stripped (header.payload.)', async () => {
      const [h, p] = (await genuine()).split('.');
      await expectOutcome(`${h}.${p}.`, rejected('malformed'));
    });
  });

  describe('HMAC with the public key as the secret (key confusion, RFC 8725 §2.1)', () => {
    const encodings: Array<[string, () => Promise<Uint8Array>]> = [
      ['the raw JWK JSON', async () => text.encode(JSON.stringify(publishedJwks.keys[0]))],
      ['the PEM SPKI', async () => text.encode(await exportSPKI(issuerEd.publicKey))],
      [
        'the DER as base64 text',
        async () => text.encode((await exportSPKI(issuerEd.publicKey)).replace(/-----[A-Z ]+-----|\s/g, '')),
      ],
      [
        'the raw DER bytes',
        async () =>
          Uint8Array.from(atob((await exportSPKI(issuerEd.publicKey)).replace(/-----[A-Z ]+-----|\s/g, '')), (c) =>
            c.charCodeAt(0),
          ),
      ],
      ['the x coordinate bytes', async () => base64url.decode((publishedJwks.keys[0] as JWK).x as string)],
      ['the RSA key PEM SPKI', async () => text.encode(await exportSPKI(issuerRs.publicKey))],
    ];
    for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
      for (const [encoding, secretOf] of encodings) {
        it(`rejects ${alg} signed with ${encoding}`, async () => {
          const secret = await secretOf();
          const kid = encoding.includes('RSA') ? KID.rs : KID.ed;
          const token = await forge(header(alg, kid), claims(), { alg, secret });
          // The forgery is a correct HMAC under that secret: only our algorithm rule stops it.
          await expect(jwtVerify(token, secret, { algorithms: [alg] })).resolves.toBeDefined();
          await expectOutcome(token, rejected('algorithm'), ALL);
        });
      }
    }
    if (kind === 'issuer') {
      it('rejects HS256 even when a JavaScript caller lists HS256 in algorithms', async () => {
        const token = await forge(header('HS256', KID.ed), claims(), {
          alg: 'HS256',
          secret: text.encode(await exportSPKI(issuerEd.publicKey)),
        });
        await expectOutcome(token, rejected('algorithm'), ['HS256' as SigningAlgorithm, 'EdDSA']);
      });
    } else {
      it('refuses to be configured with HS256 or none', () => {
        for (const alg of ['HS256', 'none']) {
          expect(() =>
            createVerifier({
              issuer: ISSUER,
              audience: AUDIENCE,
              jwksUrl: JWKS_URL,
              algorithms: [alg as SigningAlgorithm],
            }),
          ).toThrow(TypeError);
        }
      });
    }
  });

  describe('asymmetric algorithm confusion', () => {
    it('rejects a genuine RS256 token when only EdDSA is configured', async () => {
      await expectOutcome(genuine(claims(), rs()), rejected('algorithm'), ['EdDSA']);
    });
    it('rejects a genuine EdDSA token when only RS256 is configured', async () => {
      await expectOutcome(genuine(claims(), ed()), rejected('algorithm'), ['RS256']);
    });
    it('rejects alg RS256 naming the kid of the EdDSA key (key and alg must match)', async () => {
      await expectOutcome(forge(header('RS256', KID.ed), claims(), rs()), rejected('algorithm'), ALL);
    });
    it('rejects alg ES256 naming the kid of the EdDSA key', async () => {
      await expectOutcome(forge(header('ES256', KID.ed), claims(), es()), rejected('algorithm'), ALL);
    });
  });

  describe('keys carried or pointed to by the token (RFC 8725 §3.10)', () => {
    it("rejects an embedded jwk header with the attacker's key", async () => {
      const jwk = await exportJWK(attackerEd.publicKey);
      await expectOutcome(
        forge(header('EdDSA', KID.ed, { jwk }), claims(), { alg: 'EdDSA', key: attackerEd.privateKey }),
        rejected('header'),
      );
    });
    it('rejects jku pointing at another host, without fetching it', async () => {
      await expectOutcome(
        forge(header('EdDSA', KID.ed, { jku: 'https://attacker.example/jwks.json' }), claims(), {
          alg: 'EdDSA',
          key: attackerEd.privateKey,
        }),
        rejected('header'),
      );
      expect(target.fetchedUrls().filter((url) => url !== JWKS_URL)).toEqual([]);
    });
    it('rejects x5u pointing at another host, without fetching it', async () => {
      await expectOutcome(
        forge(header('EdDSA', KID.ed, { x5u: 'https://attacker.example/cert.pem' }), claims(), {
          alg: 'EdDSA',
          key: attackerEd.privateKey,
        }),
        rejected('header'),
      );
      expect(target.fetchedUrls().filter((url) => url !== JWKS_URL)).toEqual([]);
    });
    it('rejects x5c with a self-signed certificate', async () => {
      await expectOutcome(
        forge(header('EdDSA', KID.ed, { x5c: [ATTACKER_CERT_DER_B64] }), claims(), {
          alg: 'EdDSA',
          key: attackerCertKey,
        }),
        rejected('header'),
      );
    });
    it("rejects a token signed by another issuer's key under our kid", async () => {
      await expectOutcome(
        forge(header('EdDSA', KID.ed), claims(), { alg: 'EdDSA', key: attackerEd.privateKey }),
        rejected('signature'),
      );
    });
    it("rejects an ES256 token signed by another issuer's key under our ES256 kid", async () => {
      await expectOutcome(
        forge(header('ES256', KID.es), claims(), { alg: 'ES256', key: attackerEs.privateKey }),
        rejected('signature'),
        ['ES256'],
      );
    });
  });

  describe('kid injection', () => {
    const attacker = (): Signer => ({ alg: 'EdDSA', key: attackerEd.privateKey });
    const kids: Array<[string, unknown]> = [
      ['a path traversal "../../dev/null"', '../../dev/null'],
      ['SQL "\' OR 1=1 --"', "' OR 1=1 --"],
      ['an empty string', ''],
      ['a very long string (1000 chars)', 'k'.repeat(1000)],
      ['a 128-char unknown string', 'k'.repeat(128)],
      ['a number', 123],
      ['null', null],
      ['an object', { $ne: null }],
      ['an array', [KID.ed]],
      ['"__proto__" (prototype lookup)', '__proto__'],
      ['"constructor" (prototype lookup)', 'constructor'],
      ['an unknown but well-formed kid', 'rotated-away'],
    ];
    for (const [name, kid] of kids) {
      it(`rejects kid ${name} as an unknown key`, async () => {
        await expectOutcome(forge(header('EdDSA', kid), claims(), attacker()), rejected('unknown_key'));
      });
    }
  });

  describe('crit (RFC 7515 §4.1.11)', () => {
    it('rejects an unknown crit extension', async () => {
      await expectOutcome(
        forge(header('EdDSA', KID.ed, { crit: ['x-tokenward-unknown'], 'x-tokenward-unknown': true }), claims(), ed()),
        rejected('header'),
      );
    });
    it('rejects crit with a known extension name (b64, RFC 7797)', async () => {
      await expectOutcome(
        forge(header('EdDSA', KID.ed, { crit: ['b64'], b64: true }), claims(), ed()),
        rejected('header'),
      );
    });
    it('rejects crit naming a registered claim (exp)', async () => {
      await expectOutcome(forge(header('EdDSA', KID.ed, { crit: ['exp'] }), claims(), ed()), rejected('header'));
    });
  });

  describe('explicit typing (RFC 8725 §3.11, RFC 9068 §4)', () => {
    const typs: Array<[string, unknown]> = [
      ['"JWT"', 'JWT'],
      ['"jwt"', 'jwt'],
      ['"application/jwt"', 'application/jwt'],
      ['"at+jwt; charset=utf-8"', 'at+jwt; charset=utf-8'],
      ['"x-at+jwt"', 'x-at+jwt'],
      ['"text/at+jwt"', 'text/at+jwt'],
      ['a number', 1],
    ];
    for (const [name, typ] of typs) {
      it(`rejects typ ${name}`, async () => {
        await expectOutcome(forge(header('EdDSA', KID.ed, { typ }), claims(), ed()), rejected('header'));
      });
    }
    it('rejects a missing typ', async () => {
      await expectOutcome(forge({ alg: 'EdDSA', kid: KID.ed }, claims(), ed()), rejected('header'));
    });
  });

  describe('signature tampering', () => {
    it('rejects an ES256 all-zero signature (psychic signature, r = s = 0)', async () => {
      const input = `${b64u(JSON.stringify(header('ES256', KID.es)))}.${b64u(JSON.stringify(claims()))}`;
      await expectOutcome(`${input}.${b64u(new Uint8Array(64))}`, rejected('signature'), ['ES256']);
    });
    it('rejects a valid signature over a modified payload', async () => {
      const [h, , s] = (await genuine()).split('.');
      await expectOutcome(`${h}.${b64u(JSON.stringify(claims({ sub: 'admin' })))}.${s}`, rejected('signature'));
    });
    it("rejects a genuine header and payload spliced with another genuine token's signature", async () => {
      const [h, p] = (await genuine(claims({ jti: 'a' }))).split('.');
      const s = (await genuine(claims({ jti: 'b' }))).split('.')[2];
      await expectOutcome(`${h}.${p}.${s}`, rejected('signature'));
    });
    it('rejects an Ed25519 signature with S + L (non-canonical S, malleability)', async () => {
      const [h, p, s] = (await genuine()).split('.');
      const sig = base64url.decode(s as string);
      // L = 2^252 + 27742317777372353535851937790883648493, little-endian.
      let carry = 0n;
      let l = 2n ** 252n + 27742317777372353535851937790883648493n;
      for (let i = 32; i < 64; i++) {
        const sum = BigInt(sig[i] as number) + (l & 0xffn) + carry;
        sig[i] = Number(sum & 0xffn);
        carry = sum >> 8n;
        l >>= 8n;
      }
      expect(carry).toBe(0n);
      await expectOutcome(`${h}.${p}.${b64u(sig)}`, rejected('signature'));
    });
    it('rejects a signature segment with non-zero padding bits (second spelling of one signature)', async () => {
      const token = await genuine();
      const last = token.at(-1) as string;
      // 64 bytes → 86 chars: the last char holds 2 data bits and 4 padding bits.
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const twin = alphabet[alphabet.indexOf(last) + 1] as string;
      await expectOutcome(`${token.slice(0, -1)}${twin}`, rejected('malformed'));
    });
  });

  describe('serialization and shape (rejected before any decoding)', () => {
    it('rejects the flattened JWS JSON serialization passed as a string', async () => {
      const [h, p, s] = (await genuine()).split('.');
      const before = target.lookups();
      await expectOutcome(JSON.stringify({ protected: h, payload: p, signature: s }), rejected('malformed'));
      expect(target.lookups()).toBe(before);
    });
    it('rejects the general JWS JSON serialization passed as a string', async () => {
      const [h, p, s] = (await genuine()).split('.');
      await expectOutcome(
        JSON.stringify({ payload: p, signatures: [{ protected: h, signature: s }] }),
        rejected('malformed'),
      );
    });
    it('rejects a 100 KB token fast, without a key lookup', async () => {
      const [h, , s] = (await genuine()).split('.');
      const token = `${h}.${b64u(JSON.stringify(claims({ pad: 'x'.repeat(75_000) })))}.${s}`;
      expect(token.length).toBeGreaterThan(100_000);
      const before = target.lookups();
      const started = performance.now();
      await expectOutcome(token, rejected('too_large'));
      expect(performance.now() - started).toBeLessThan(25);
      expect(target.lookups()).toBe(before);
    });
    const mangles: Array<[string, (t: string) => string]> = [
      ['a leading space', (t) => ` ${t}`],
      ['a trailing space', (t) => `${t} `],
      ['a trailing newline', (t) => `${t}\n`],
      ['a space inside the payload', (t) => t.replace('.', '. ')],
      ['a tab inside the header', (t) => `${t.slice(0, 5)}\t${t.slice(5)}`],
      ['"=" padding on the signature', (t) => `${t}==`],
      ['"=" inside the header segment', (t) => t.replace('.', '=.')],
      [
        'standard base64 "+" and "/"',
        (t) =>
          t
            .replace(/-/g, '+')
            .replace(/_/g, '/')
            .replace(/^([^.]*)\./, '$1+/.'),
      ],
      ['an extra segment', (t) => `${t}.${t.split('.')[2]}`],
      ['only two segments', (t) => t.split('.').slice(0, 2).join('.')],
      [
        'a header segment of 4k+1 characters (no byte string has that length)',
        (t) => `${'A'.repeat((5 - (t.indexOf('.') % 4)) % 4)}${t}`,
      ],
    ];
    for (const [name, mangle] of mangles) {
      it(`rejects ${name} as malformed`, async () => {
        await expectOutcome(mangle(await genuine()), rejected('malformed'));
      });
    }
  });

  describe('time claims', () => {
    it('rejects an expired token', async () => {
      await expectOutcome(genuine(claims({ exp: NOW_SEC - 3600 })), rejected('expired'));
    });
    it('rejects nbf in the future', async () => {
      await expectOutcome(genuine(claims({ nbf: NOW_SEC + 3600 })), rejected('not_yet_valid'));
    });
    it('rejects iat in the future', async () => {
      await expectOutcome(genuine(claims({ iat: NOW_SEC + 3600 })), rejected('claims'));
    });
    it('rejects a string exp', async () => {
      await expectOutcome(genuine(claims({ exp: String(NOW_SEC + 600) })), rejected('claims'));
    });
  });

  describe('issuer, audience and required claims', () => {
    it('rejects a wrong iss', async () => {
      await expectOutcome(genuine(claims({ iss: 'https://evil.example.test' })), rejected('claims'));
    });
    it('rejects an iss that only differs by a trailing slash', async () => {
      await expectOutcome(genuine(claims({ iss: `${ISSUER}/` })), rejected('claims'));
    });
    it('rejects a wrong aud', async () => {
      await expectOutcome(genuine(claims({ aud: 'https://other.example.test' })), rejected('claims'));
    });
    it('rejects an aud array without our audience', async () => {
      await expectOutcome(
        genuine(claims({ aud: ['https://a.example.test', 'https://b.example.test'] })),
        rejected('claims'),
      );
    });
    for (const name of ['sub', 'sid', 'jti', 'exp', 'iat', 'iss', 'aud', 'auth_time', 'amr']) {
      it(`rejects a token without ${name}`, async () => {
        await expectOutcome(genuine(claims({}, [name])), rejected('claims'));
      });
    }
    it('rejects an empty sid', async () => {
      await expectOutcome(genuine(claims({ sid: '' })), rejected('claims'));
    });
    it('rejects a signed payload that is not JSON', async () => {
      await expectOutcome(forge(header('EdDSA', KID.ed), 'not json', ed()), rejected('claims'));
    });
    it('rejects a signed payload that is a JSON array', async () => {
      await expectOutcome(forge(header('EdDSA', KID.ed), [claims()], ed()), rejected('claims'));
    });
  });

  if (kind === 'verifier') {
    describe('JWKS refetch on unknown kid', () => {
      it('refetches at most once per 30 s window however many unknown kids arrive', async () => {
        let now = NOW;
        let fetches = 0;
        const verifier = createVerifier({
          issuer: ISSUER,
          audience: AUDIENCE,
          jwksUrl: JWKS_URL,
          now: () => now,
          fetch: async () => {
            fetches++;
            return new Response(JSON.stringify(publishedJwks), {
              status: 200,
              headers: { 'cache-control': 'max-age=300' },
            });
          },
        });
        await verifier.verify(await genuine());
        expect(fetches).toBe(1);
        const attacker: Signer = { alg: 'EdDSA', key: attackerEd.privateKey };
        const unknown = (i: number): Promise<string> => forge(header('EdDSA', `unknown-${i}`), claims(), attacker);
        const burst = await Promise.all(Array.from({ length: 50 }, (_, i) => unknown(i)));
        const verifyAll = async (): Promise<void> => {
          const outcomes = await Promise.allSettled(burst.map((t) => verifier.verify(t)));
          for (const outcome of outcomes) {
            expect(outcome.status).toBe('rejected');
            expect((outcome as PromiseRejectedResult).reason).toMatchObject({
              code: 'invalid_token',
              reason: 'unknown_key',
            });
          }
        };
        // Within 30 s of the initial fetch: no refetch at all.
        await verifyAll();
        expect(fetches).toBe(1);
        // Window open: 50 concurrent unknown kids share one refetch.
        now += 30_000;
        await verifyAll();
        expect(fetches).toBe(2);
        now += 29_000;
        for (let i = 50; i < 60; i++)
          await expect(verifier.verify(await unknown(i))).rejects.toMatchObject({ reason: 'unknown_key' });
        expect(fetches).toBe(2);
        now += 1_000;
        await expect(verifier.verify(await unknown(60))).rejects.toMatchObject({ reason: 'unknown_key' });
        expect(fetches).toBe(3);
        verifier.close();
      });
    });
  }
});
