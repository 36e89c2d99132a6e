import { randomId, randomToken } from '../../kernel/crypto/encoding.js';
import type { Clock, PasswordHasher, Store, User } from '../../kernel/ports.js';
import { normalizeEmail } from '../../kernel/users/normalize-email.js';
import type { FederatedIdentity } from './provider-client.js';

/** Where a federated login leads. */
export type AccountResolution =
  /** An existing or new local user; `via` says how (for the audit trail). */
  | { kind: 'user'; user: User; via: 'linked' | 'verified_email' | 'signup' }
  /**
   * No session: `account_exists` — the verified email belongs to a local account and either
   * this provider may not link by email or the local account never proved the address;
   * `email_unverified` — no link exists and the provider did not assert a verified email, so no
   * account can be created or found.
   */
  | { kind: 'refused'; reason: 'account_exists' | 'email_unverified' };

/** What {@link resolveFederatedAccount} needs. */
export interface AccountLinkingDeps {
  store: Store;
  hasher: PasswordHasher;
  clock: Clock;
}

/**
 * Maps a validated external identity to a local user. The rules (docs/oidc.md, "Account linking"):
 *
 * 1. An identity (`iss` + `sub`) already linked logs in its user. Emails are never consulted
 *    again: they change and get recycled, the subject does not.
 * 2. Otherwise the provider must assert `email_verified: true`, else nothing is created or linked.
 * 3. A verified email that no local user has: a new user is created together with the link
 *    (one transaction), its email marked verified (the provider proved it). Its password is an
 *    unusable random one; a password reset can set one.
 * 4. A verified email that a local user has: linked only when both sides have proven the
 *    address — the provider's `linkVerifiedEmail` option is on (off by default: a provider that
 *    lets anyone claim an address it does not control would hand over the local account) AND
 *    the local account's email is verified. Without the second condition an attacker who signed
 *    up first with the victim's address (nothing proves it) would receive the victim's SSO
 *    login into the attacker's account, with the attacker's password and sessions still working
 *    (pre-account hijacking). Otherwise the login is refused with `account_exists`.
 *
 * @example
 * ```ts
 * const outcome = await resolveFederatedAccount(deps, identity, { linkVerifiedEmail: false });
 * if (outcome.kind === 'user') await service.completeLogin(outcome.user.id, ['fed'], rc);
 * ```
 */
export async function resolveFederatedAccount(
  deps: AccountLinkingDeps,
  identity: FederatedIdentity,
  options: { linkVerifiedEmail: boolean },
): Promise<AccountResolution> {
  const { store, clock } = deps;
  // Two attempts: a concurrent first login of the same identity may win the race in between.
  for (let attempt = 0; attempt < 2; attempt++) {
    const linked = await store.findUserByIdentity(identity.issuer, identity.subject);
    if (linked) return { kind: 'user', user: linked, via: 'linked' };

    const email = identity.email === null ? null : normalizeEmail(identity.email);
    if (email === null || !identity.emailVerified) return { kind: 'refused', reason: 'email_unverified' };
    const link = { issuer: identity.issuer, subject: identity.subject, email, createdAt: clock.now() };

    const existing = await store.findUserByEmail(email);
    if (existing) {
      // Both sides must have proven the address (API.md): the provider did (checked above);
      // an unverified local account may belong to whoever typed the address into a signup form.
      if (!options.linkVerifiedEmail || !existing.emailVerified) return { kind: 'refused', reason: 'account_exists' };
      const result = await store.linkIdentity({ ...link, userId: existing.id });
      if (result === 'ok') return { kind: 'user', user: existing, via: 'verified_email' };
      continue;
    }

    // The provider asserted email_verified: true (checked above), so the new account's email is verified.
    const user: User = { id: randomId(), email, emailVerified: true, name: identity.name, createdAt: clock.now() };
    // Nobody knows this password: the account is reachable through the provider (or a reset) only.
    const passwordHash = await deps.hasher.hash(randomToken(32));
    const created = await store.createUserWithIdentity(user, passwordHash, { ...link, userId: user.id });
    if (created === 'ok') return { kind: 'user', user, via: 'signup' };
    // email_taken or identity_taken: someone won a race; decide again with the new state.
  }
  return { kind: 'refused', reason: 'account_exists' };
}
