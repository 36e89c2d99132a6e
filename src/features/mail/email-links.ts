import { TokenwardError } from '../../errors.js';
import { randomToken, sha256, timingSafeEqualStrings } from '../../kernel/crypto/encoding.js';
import { enforceIpLimit } from '../../kernel/limits/attempts.js';
import type { Artifact, Credentials, User } from '../../kernel/ports.js';
import type { RequestContext } from '../../kernel/request-context.js';
import { normalizeEmail } from '../../kernel/users/normalize-email.js';
import type { MailTemplateId, ServerContext } from '../../server/context.js';

/**
 * The kinds of email links (artifact kinds): a link of one kind never works as another, and each
 * opens its own page of the app, `/account/<page>?token=…` (API.md "Mail").
 */
export const EMAIL_LINK_PAGES = {
  'email-verify': 'verify-email',
  'password-reset': 'reset-password',
  'magic-link': 'magic-link',
  'email-change': 'confirm-email-change',
} as const;

/** An email link's purpose (its artifact kind). */
export type EmailLinkKind = keyof typeof EMAIL_LINK_PAGES;

/** Every email link kind: all of a user's links die together when the password or the address changes. */
export const EMAIL_LINK_KINDS = Object.keys(EMAIL_LINK_PAGES) as EmailLinkKind[];

/** Lifetimes (API.md "Limits"): 15 min for links that sign in, 24 h for links that confirm an address. */
export const EMAIL_LINK_TTL_SEC: Readonly<Record<EmailLinkKind, number>> = {
  'email-verify': 24 * 3600,
  'password-reset': 15 * 60,
  'magic-link': 15 * 60,
  'email-change': 24 * 3600,
};

/**
 * The methods (RFC 8176) a link sign-in proves. The person showed they hold a single-use secret
 * delivered out of band to the account's address: RFC 8176 registers no value for e-mail, and
 * `otp` ("one-time password") is the registered value that describes it. Not `pwd`: choosing a
 * new password proves nothing about knowing the old one. Never `mfa`, so a link sign-in never
 * counts as a second factor — an enrolled factor is still asked (finishLogin).
 */
export const EMAIL_LINK_AMR = ['otp'] as const;

/** A link token: 256 random bits, base64url. Anything else is refused before the database is asked. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/**
 * What a link is bound to besides its user: the address and the password hash it was issued
 * under. A link stops working as soon as either changes — a password change or reset, an email
 * change — wherever the change was made, with no list of links to find and delete.
 */
export function linkBinding(email: string, passwordHash: string): Promise<string> {
  return sha256(`tokenward:email-link\u0000${email.toLowerCase()}\u0000${passwordHash}`);
}

/** A valid, bound link: its artifact, its user and the user's credentials (read after the link). */
export interface EmailLink {
  artifact: Artifact & { kind: EmailLinkKind };
  user: User;
  credentials: Credentials;
}

/**
 * Issues a link: 256 random bits, stored only as their SHA-256 (a database dump yields no working
 * link), single use, bound to its kind, its user and {@link linkBinding}. `userId` null issues a
 * link that can never be redeemed (the same work for an address without an account).
 *
 * @example
 * ```ts
 * const { url, expiresAt } = await issueEmailLink(ctx, { kind: 'email-verify', userId: user.id, binding });
 * ```
 */
export async function issueEmailLink(
  ctx: Pick<ServerContext, 'artifacts' | 'clock' | 'config'>,
  input: { kind: EmailLinkKind; userId: string | null; binding: string; data?: Record<string, string> },
): Promise<{ url: string; expiresAt: number }> {
  const token = randomToken(32);
  const now = ctx.clock.now();
  const expiresAt = now + EMAIL_LINK_TTL_SEC[input.kind] * 1000;
  await ctx.artifacts.put({
    kind: input.kind,
    hash: await sha256(token),
    userId: input.userId,
    sessionId: null,
    data: { ...input.data, binding: input.binding },
    createdAt: now,
    expiresAt,
  });
  // A page of the app, not an API endpoint: opening it changes nothing (mail scanners prefetch
  // links); the page POSTs the token when the person confirms.
  return { url: `${ctx.config.publicOrigin}/account/${EMAIL_LINK_PAGES[input.kind]}?token=${token}`, expiresAt };
}

/** Checks that a link's artifact is still bound to its user as they are now. */
async function bound(ctx: Pick<ServerContext, 'store'>, artifact: Artifact): Promise<EmailLink | null> {
  if (artifact.userId === null || typeof artifact.data?.binding !== 'string') return null;
  const user = await ctx.store.findUserById(artifact.userId);
  const credentials = user ? await ctx.store.getCredentials(user.id) : null;
  if (!user || !credentials) return null;
  const current = await linkBinding(user.email, credentials.passwordHash);
  if (!(await timingSafeEqualStrings(current, artifact.data.binding))) return null;
  return { artifact: artifact as EmailLink['artifact'], user, credentials };
}

/** The per-IP budget of link redemptions (the login budget): bounds the work a flood of tokens can cause. */
export async function limitLinkAttempts(
  ctx: Pick<ServerContext, 'limiter' | 'config'>,
  rc: RequestContext,
): Promise<void> {
  const { limits } = ctx.config;
  await enforceIpLimit(ctx.limiter, 'email-link', rc.ip, limits.loginPerIp, limits);
}

/**
 * Reads a link without using it: unknown, expired, used, of another kind, or no longer bound to
 * its user (password or address changed) → null. For checks that must not cost the link (a weak
 * new password, a session of another account).
 */
export async function findEmailLink(
  ctx: Pick<ServerContext, 'artifacts' | 'store' | 'clock'>,
  kinds: readonly EmailLinkKind[],
  token: string,
): Promise<EmailLink | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const hash = await sha256(token);
  const now = ctx.clock.now();
  for (const kind of kinds) {
    const artifact = await ctx.artifacts.find(kind, hash);
    if (artifact && artifact.consumedAt === null && artifact.expiresAt > now) return bound(ctx, artifact);
  }
  return null;
}

/**
 * Uses a link: one atomic consume (of any number of concurrent uses, on any node, exactly one
 * gets it), then the binding check. Null for every way a link can be wrong; the caller answers
 * 400 `invalid_link` and changes nothing.
 */
export async function redeemEmailLink(
  ctx: Pick<ServerContext, 'artifacts' | 'store' | 'clock'>,
  kinds: readonly EmailLinkKind[],
  token: string,
): Promise<EmailLink | null> {
  if (!TOKEN_SHAPE.test(token)) return null;
  const hash = await sha256(token);
  const now = ctx.clock.now();
  for (const kind of kinds) {
    const artifact = await ctx.artifacts.consume(kind, hash, now);
    if (artifact) return bound(ctx, artifact);
  }
  return null;
}

/** A user that does not exist, for the reads an unknown address does instead of a real account's. */
const NO_USER = '00000000-0000-4000-8000-000000000000';

/**
 * `POST /auth/password/forgot` and `POST /auth/magic-link`: mails a link to an address if it has
 * an (enabled) account, answering the same either way (API.md: identical body and timing). Every
 * path does the same work — the per-address and per-IP mail limits (both always counted), one user
 * read, one credentials read, one link written (for an unknown address a link that names no one);
 * the mail itself is only pushed on the queue, rendered and sent after the response — so neither the answer
 * nor its time tells whether the address has an account. Over a mail limit nothing is written or
 * sent, for any address.
 */
export async function mailLinkToAddress(
  ctx: ServerContext,
  input: { kind: 'password-reset' | 'magic-link'; template: MailTemplateId; email: string },
  rc: RequestContext,
): Promise<void> {
  const email = normalizeEmail(input.email);
  if (email === null) throw new TokenwardError('invalid_request', { detail: 'email must be a valid email address.' });
  // A flood from one network meets the login budget (429): it reveals nothing about any account.
  const { limits } = ctx.config;
  await enforceIpLimit(ctx.limiter, 'email-link-request', rc.ip, limits.loginPerIp, limits);
  const mailer = ctx.mailer;
  if (mailer === null) throw new Error('the mail feature is not set up');
  const admitted = await mailer.admit(input.template, email, rc.ip);
  const user = await ctx.store.findUserByEmail(email);
  const credentials = await ctx.store.getCredentials(user?.id ?? NO_USER);
  const binding = await linkBinding(email, credentials?.passwordHash ?? NO_USER);
  const recipient = user !== null && credentials !== null && user.disabledAt == null ? user : null;
  if (!admitted.allowed) return;
  const link = await issueEmailLink(ctx, { kind: input.kind, userId: recipient?.id ?? null, binding });
  // An array push: rendering and sending happen after the response (the queue starts on a later turn).
  if (recipient !== null)
    mailer.send({
      template: input.template,
      to: recipient.email,
      variables: { link: link.url, email: recipient.email },
      expiresAt: link.expiresAt,
      userId: recipient.id,
    });
}
