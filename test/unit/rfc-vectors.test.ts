// Test vectors from the RFCs, named by the section they come from (jose's habit): each pins a
// piece of protocol code to the published example, not to what the code happens to do.
import { calculateJwkThumbprint, type JWK } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { describe, expect, it } from 'vitest';
import { DpopVerifier } from '../../src/features/dpop/dpop-verifier.js';
import { pkceChallengeS256 } from '../../src/kernel/crypto/pkce.js';
import { MemoryLimiter } from '../../src/limiter/memory-limiter.js';

describe('RFC 7636 (PKCE)', () => {
  it('https://www.rfc-editor.org/rfc/rfc7636#appendix-B: S256 of the example verifier is the example challenge', async () => {
    expect(await pkceChallengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });
});

describe('RFC 6238 (TOTP)', () => {
  // Appendix B, SHA-1 rows: the seed is the ASCII string "12345678901234567890", T0 = 0, X = 30 s.
  const secret = Secret.fromLatin1('12345678901234567890');
  const rows: Array<[number, string]> = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  it('https://www.rfc-editor.org/rfc/rfc6238#appendix-B: the SHA-1 test values (8 digits)', () => {
    for (const [t, code] of rows) {
      expect(TOTP.generate({ secret, algorithm: 'SHA1', digits: 8, period: 30, timestamp: t * 1000 }), `T=${t}`).toBe(
        code,
      );
    }
  });
  it('with the parameters Tokenward uses (SHA-1, 30 s, 6 digits) a code is the last 6 digits of the RFC value, and validates at its step only (±1)', () => {
    for (const [t, code] of rows) {
      const six = code.slice(-6);
      expect(TOTP.generate({ secret, algorithm: 'SHA1', digits: 6, period: 30, timestamp: t * 1000 })).toBe(six);
      expect(
        TOTP.validate({ token: six, secret, algorithm: 'SHA1', digits: 6, period: 30, timestamp: t * 1000, window: 1 }),
      ).toBe(0);
      expect(
        TOTP.validate({
          token: six,
          secret,
          algorithm: 'SHA1',
          digits: 6,
          period: 30,
          timestamp: (t + 90) * 1000,
          window: 1,
        }),
      ).toBeNull();
    }
  });
});

describe('RFC 7638 (JWK thumbprint)', () => {
  it("https://www.rfc-editor.org/rfc/rfc7638#section-3.1: the example RSA key's SHA-256 thumbprint", async () => {
    const jwk: JWK = {
      kty: 'RSA',
      n: '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
      e: 'AQAB',
      alg: 'RS256',
      kid: '2011-04-29',
    };
    expect(await calculateJwkThumbprint(jwk, 'sha256')).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });
});

describe('RFC 9449 (DPoP)', () => {
  // §4.1, Figure 2 (RFC 8792 line folding undone): the example proof for POST https://server.example.com/token, iat 1562262616.
  const proof =
    'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2IiwiandrIjp7Imt0eSI6IkVDIiwieCI6Imw4dEZyaHgtMzR0VjNoUklDUkRZOXpDa0RscEJoRjQyVVFVZldWQVdCRnMiLCJ5IjoiOVZFNGpmX09rX282NHpiVFRsY3VOSmFqSG10NnY5VERWclUwQ2R2R1JEQSIsImNydiI6IlAtMjU2In19.eyJqdGkiOiItQndDM0VTYzZhY2MybFRjIiwiaHRtIjoiUE9TVCIsImh0dSI6Imh0dHBzOi8vc2VydmVyLmV4YW1wbGUuY29tL3Rva2VuIiwiaWF0IjoxNTYyMjYyNjE2fQ.2-GxA6T8lP4vfrg8v-FdWP0A0zdrj8igiMLvqRMUvwnQg4PtFLbdLXiOSsX0x7NVY-FNyJK70nfbV37xRZT3Lg';
  const at = 1562262616 * 1000;
  const verifier = () => {
    const clock = { now: () => at };
    return new DpopVerifier({ limiter: new MemoryLimiter(clock), clock, nonceKey: undefined as never });
  };

  it('https://www.rfc-editor.org/rfc/rfc9449#section-4.1: the example proof verifies for its method and URI, once', async () => {
    const dpop = verifier();
    const result = await dpop.verify({ proof, method: 'POST', url: 'https://server.example.com/token' });
    // The RFC's own thumbprint of the example key (§6.1).
    expect(result).toEqual({ ok: true, jkt: '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I' });
    // §11.1: a proof is accepted once (jti).
    expect(await dpop.verify({ proof, method: 'POST', url: 'https://server.example.com/token' })).toMatchObject({
      ok: false,
    });
  });

  it('https://www.rfc-editor.org/rfc/rfc9449#section-4.3: the example proof is refused for another method or URI', async () => {
    expect(await verifier().verify({ proof, method: 'GET', url: 'https://server.example.com/token' })).toMatchObject({
      ok: false,
    });
    expect(await verifier().verify({ proof, method: 'POST', url: 'https://server.example.com/other' })).toMatchObject({
      ok: false,
    });
  });
});
