import { z } from 'zod';

/** Provider names appear in URLs (`{basePath}/oidc/<name>/login`): short, lowercase, URL-safe. */
export const OIDC_PROVIDER_NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

const issuerUrl = z.string().superRefine((value, ctx) => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `issuer must be a URL like https://accounts.example.com, got "${value}"` });
    return;
  }
  // Discovery, token and JWKS requests carry the client secret and the keys that vouch for
  // identities: plain http is allowed only on the loopback interface (tests, local IdPs).
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname))) {
    ctx.addIssue({ code: 'custom', message: `issuer must be https (http only on localhost), got "${value}"` });
  }
  if (url.search || url.hash || url.username || url.password) {
    ctx.addIssue({ code: 'custom', message: `issuer must not carry a query, fragment or credentials, got "${value}"` });
  }
});

const scopeList = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(/[\s,]+/)).map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, 'scopes must be RFC 6749 scope tokens')).max(32));

const providerSchema = z
  .object({
    issuer: issuerUrl,
    clientId: z.string().min(1, 'clientId is required').max(512),
    clientSecret: z.string().min(1).max(1024).optional(),
    scopes: scopeList.optional(),
    linkVerifiedEmail: bool.default(false),
  })
  .strict();

/** Accepts the JSON text of `TOKENWARD_OIDC_PROVIDERS` as well as an object. */
function parseJsonText(value: unknown, ctx: z.RefinementCtx): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object of providers (TOKENWARD_OIDC_PROVIDERS)' });
    return z.NEVER;
  }
}

/**
 * The `oidc` option: identity providers for backend-driven OpenID Connect login
 * (`GET {basePath}/oidc/<name>/login`). See docs/oidc.md.
 *
 * @example
 * ```ts
 * createTokenward({ oidc: { providers: { google: { issuer: 'https://accounts.google.com', clientId, clientSecret } } } });
 * ```
 */
export const oidcOptionsSchema = z
  .object({
    providers: z
      .unknown()
      .transform(parseJsonText)
      .pipe(
        z.record(
          z
            .string()
            .regex(
              OIDC_PROVIDER_NAME,
              'provider names must be 1-32 characters of a-z, 0-9, _ and - (they appear in URLs)',
            ),
          providerSchema,
        ),
      ),
    /** Seconds each request to a provider may take (discovery, token, JWKS, userinfo); default 5. */
    timeout: z.number().positive().max(60, 'oidc.timeout is in seconds, at most 60').default(5),
  })
  .strict();

/** One configured identity provider, resolved. */
export interface OidcProviderConfig {
  /** The issuer identifier; discovery reads `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** Absent: a public client (PKCE only, token endpoint auth `none`). */
  clientSecret: string | undefined;
  /** Requested scopes; always includes `openid`. Default `openid email profile`. */
  scopes: string[];
  /**
   * Link a first login to an existing local account whose email the provider asserts as
   * verified (`email_verified: true`). Off by default: see docs/oidc.md ("Account linking").
   */
  linkVerifiedEmail: boolean;
}

/** The resolved `oidc` configuration (no providers: the OIDC routes answer 404). */
export interface OidcConfig {
  providers: Record<string, OidcProviderConfig>;
  /** Bound on each request to a provider, in milliseconds. */
  timeoutMs: number;
}

/**
 * Applies defaults to a parsed `oidc` option (scopes `openid email profile`, `linkVerifiedEmail`
 * off, timeout 5 s).
 *
 * @example
 * ```ts
 * resolveOidcConfig(oidcOptionsSchema.parse({ providers: { g: { issuer: 'https://accounts.google.com', clientId: 'app' } } }));
 * ```
 */
export function resolveOidcConfig(parsed: z.output<typeof oidcOptionsSchema> | undefined): OidcConfig {
  const providers: Record<string, OidcProviderConfig> = {};
  for (const [name, p] of Object.entries(parsed?.providers ?? {})) {
    const scopes = p.scopes ?? ['openid', 'email', 'profile'];
    providers[name] = {
      issuer: p.issuer,
      clientId: p.clientId,
      clientSecret: p.clientSecret,
      scopes: scopes.includes('openid') ? [...new Set(scopes)] : ['openid', ...new Set(scopes)],
      linkVerifiedEmail: p.linkVerifiedEmail,
    };
  }
  return { providers, timeoutMs: Math.round((parsed?.timeout ?? 5) * 1000) };
}
