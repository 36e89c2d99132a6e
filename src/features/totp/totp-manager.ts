import type { CryptoKey } from 'jose';
import { base64url } from 'jose';
import { Secret, TOTP } from 'otpauth';
import { TokenwardError } from '../../errors.js';
import { utf8 } from '../../kernel/crypto/encoding.js';
import { open, seal } from '../../kernel/crypto/seal.js';
import { reserveSecretAttempt, secondFactorBackoffKey } from '../../kernel/limits/attempts.js';
import type { BackoffPolicy, Clock, Credentials, Limiter, Store } from '../../kernel/ports.js';

/** RFC 6238 defaults that every authenticator app supports. */
const PERIOD = 30;
const DIGITS = 6;
/** Accept the previous and the next step (clock drift), never more. */
const WINDOW = 1;
const RECOVERY_CODE_COUNT = 10;
/** 12 characters of Crockford's base32 alphabet: 60 bits each. */
const RECOVERY_ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const RECOVERY_SHAPE = /^[0-9a-hjkmnp-tv-z]{12}$/;
const RECOVERY_LENGTH = 12;
/** Used recovery codes are also claimed in the shared limiter for this long (closes the race between nodes). */
const RECOVERY_CLAIM_TTL_SEC = 30 * 86400;

/** What is sealed into `credentials.totp_secret` (AES-GCM, bound to the user id). */
interface TotpRecord {
  v: 1;
  /** Base32 secret. */
  secret: string;
  /** HMAC-SHA-256 of each unused recovery code (base64url). */
  recovery: string[];
}

export interface TotpStatus {
  enabled: boolean;
  /** An enrollment was started and not confirmed yet. */
  pending: boolean;
  recoveryCodesLeft: number;
}

export interface TotpManagerDeps {
  store: Store;
  limiter: Limiter;
  clock: Clock;
  /** AES-GCM key for the sealed record (purpose-derived from the server secret). */
  sealKey: CryptoKey;
  /** HMAC key for recovery-code hashes (purpose-derived from the server secret). */
  recoveryKey: CryptoKey;
  /** Shown in authenticator apps (the site's host). */
  issuer: string;
  /** Backoff of wrong codes per user (login second step, step-up, confirm share it). */
  backoff: BackoffPolicy;
}

export type SecondFactorInput = { code: string } | { recoveryCode: string };

/** `0`–`9` only, exactly six. */
const CODE_SHAPE = /^\d{6}$/;

/** Recovery codes are shown as `abcd-efgh-jk12`; input may use any case, spaces or dashes (and Crockford's i/l → 1, o → 0). */
export function normalizeRecoveryCode(value: string): string {
  return value.toLowerCase().replace(/[\s-]/g, '').replace(/[il]/g, '1').replace(/o/g, '0');
}

function generateRecoveryCode(): string {
  // 256 is a multiple of 32: `byte & 31` is unbiased.
  const bytes = crypto.getRandomValues(new Uint8Array(RECOVERY_LENGTH));
  let code = '';
  for (const b of bytes) code += RECOVERY_ALPHABET[b & 31] ?? '2';
  return `${code.slice(0, 4)}-${code.slice(4, 8)}-${code.slice(8)}`;
}

/**
 * TOTP second factor (RFC 6238 via `otpauth`) and recovery codes. The secret is stored sealed;
 * an accepted code advances the user's last step atomically in the store, so a code (or an
 * older one) is accepted once; recovery codes are stored as keyed hashes and work once.
 */
export class TotpManager {
  readonly #d: TotpManagerDeps;
  /** Serialises recovery-code read-modify-write per user on this node. */
  readonly #locks = new Map<string, Promise<unknown>>();

  constructor(deps: TotpManagerDeps) {
    this.#d = deps;
  }

  async #seal(userId: string, record: TotpRecord): Promise<string> {
    return seal(this.#d.sealKey, JSON.stringify(record), `totp:${userId}`);
  }

  async #open(userId: string, credentials: Credentials | null): Promise<TotpRecord | null> {
    if (!credentials?.totpSecretSealed) return null;
    const text = await open(this.#d.sealKey, credentials.totpSecretSealed, `totp:${userId}`);
    if (text === null) return null;
    const record = JSON.parse(text) as TotpRecord;
    return record.v === 1 && typeof record.secret === 'string' && Array.isArray(record.recovery) ? record : null;
  }

  async #recoveryHash(userId: string, code: string): Promise<string> {
    const mac = await crypto.subtle.sign('HMAC', this.#d.recoveryKey, utf8(`${userId}|${normalizeRecoveryCode(code)}`));
    return base64url.encode(new Uint8Array(mac));
  }

  async #withLock<T>(userId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(userId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => {});
    this.#locks.set(userId, tail);
    try {
      return await run;
    } finally {
      if (this.#locks.get(userId) === tail) this.#locks.delete(userId);
    }
  }

  /** Whether TOTP is on for these credentials (a confirmed enrollment). */
  static isEnabled(credentials: Credentials | null): boolean {
    return credentials !== null && credentials.totpConfirmedAt !== null && credentials.totpSecretSealed !== null;
  }

  async status(userId: string): Promise<TotpStatus> {
    const credentials = await this.#d.store.getCredentials(userId);
    const record = await this.#open(userId, credentials);
    const enabled = TotpManager.isEnabled(credentials) && record !== null;
    return {
      enabled,
      pending: !enabled && record !== null,
      recoveryCodesLeft: enabled && record ? record.recovery.length : 0,
    };
  }

  /**
   * Starts (or restarts) an enrollment: a new secret, stored sealed but not yet active.
   * 409 `totp_already_enabled` when TOTP is on (disable it first: never swap a live secret).
   */
  async beginEnrollment(user: { id: string; email: string }): Promise<{ otpauthUri: string }> {
    const credentials = await this.#d.store.getCredentials(user.id);
    if (TotpManager.isEnabled(credentials)) throw new TokenwardError('totp_already_enabled');
    const secret = new Secret({ size: 20 });
    await this.#d.store.setTotp(user.id, {
      totpSecretSealed: await this.#seal(user.id, { v: 1, secret: secret.base32, recovery: [] }),
      totpConfirmedAt: null,
    });
    const totp = new TOTP({
      issuer: this.#d.issuer,
      label: user.email,
      secret,
      digits: DIGITS,
      period: PERIOD,
      algorithm: 'SHA1',
    });
    return { otpauthUri: totp.toString() };
  }

  /**
   * Confirms an enrollment with a first code; returns the recovery codes (shown once).
   * 400 `invalid_request` when no enrollment is pending, 400 `invalid_code` for a wrong code.
   */
  async confirmEnrollment(userId: string, code: string): Promise<{ recoveryCodes: string[] }> {
    const credentials = await this.#d.store.getCredentials(userId);
    const record = await this.#open(userId, credentials);
    if (record === null || TotpManager.isEnabled(credentials)) {
      throw new TokenwardError('invalid_request', {
        detail: 'No TOTP enrollment is pending; start one with /totp/enroll.',
      });
    }
    await this.#checkCode(userId, record, code, await this.#reserve(userId));
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
    const recovery = await Promise.all(recoveryCodes.map((c) => this.#recoveryHash(userId, c)));
    await this.#d.store.setTotp(userId, {
      totpSecretSealed: await this.#seal(userId, { ...record, recovery }),
      totpConfirmedAt: this.#d.clock.now(),
    });
    return { recoveryCodes };
  }

  /** Replaces the recovery codes (the old ones stop working). 400 `invalid_request` when TOTP is off. */
  async regenerateRecoveryCodes(userId: string): Promise<{ recoveryCodes: string[] }> {
    return this.#withLock(userId, async () => {
      const credentials = await this.#d.store.getCredentials(userId);
      const record = await this.#open(userId, credentials);
      if (record === null || !TotpManager.isEnabled(credentials))
        throw new TokenwardError('invalid_request', { detail: 'TOTP is not enabled.' });
      const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, generateRecoveryCode);
      const recovery = await Promise.all(recoveryCodes.map((c) => this.#recoveryHash(userId, c)));
      await this.#d.store.setTotp(userId, { totpSecretSealed: await this.#seal(userId, { ...record, recovery }) });
      return { recoveryCodes };
    });
  }

  /** Turns TOTP off (secret and recovery codes are deleted). Returns false when it was not on. */
  async disable(userId: string): Promise<boolean> {
    const credentials = await this.#d.store.getCredentials(userId);
    if (!credentials?.totpSecretSealed) return false;
    await this.#d.store.setTotp(userId, { totpSecretSealed: null, totpConfirmedAt: null });
    return TotpManager.isEnabled(credentials);
  }

  /**
   * Verifies a second factor for a user with TOTP on: a current code (once) or an unused recovery
   * code (consumed). Wrong input counts against the user's backoff: 400 `invalid_code`, then 429.
   */
  async verify(userId: string, input: SecondFactorInput): Promise<'totp' | 'recovery_code'> {
    // Counted before anything is checked: a burst of codes is evaluated at most as often as the backoff allows.
    const succeeded = await this.#reserve(userId);
    const credentials = await this.#d.store.getCredentials(userId);
    const record = await this.#open(userId, credentials);
    if (record === null || !TotpManager.isEnabled(credentials)) throw new TokenwardError('invalid_code');
    if ('code' in input) {
      await this.#checkCode(userId, record, input.code, succeeded);
      return 'totp';
    }
    await this.#useRecoveryCode(userId, input.recoveryCode, succeeded);
    return 'recovery_code';
  }

  #reserve(userId: string): Promise<() => Promise<void>> {
    return reserveSecretAttempt(this.#d.limiter, secondFactorBackoffKey(userId), this.#d.backoff);
  }

  async #checkCode(userId: string, record: TotpRecord, code: string, succeeded: () => Promise<void>): Promise<void> {
    const now = this.#d.clock.now();
    const delta = CODE_SHAPE.test(code)
      ? TOTP.validate({
          token: code,
          secret: Secret.fromBase32(record.secret),
          digits: DIGITS,
          period: PERIOD,
          algorithm: 'SHA1',
          timestamp: now,
          window: WINDOW,
        })
      : null;
    // A replayed code (same or older step than the last accepted one) fails like a wrong one.
    if (
      delta === null ||
      !(await this.#d.store.claimTotpStep(userId, TOTP.counter({ period: PERIOD, timestamp: now }) + delta))
    ) {
      throw new TokenwardError('invalid_code');
    }
    await succeeded();
  }

  async #useRecoveryCode(userId: string, code: string, succeeded: () => Promise<void>): Promise<void> {
    const normalized = normalizeRecoveryCode(code);
    const hash = RECOVERY_SHAPE.test(normalized) ? await this.#recoveryHash(userId, normalized) : null;
    const used = await this.#withLock(userId, async () => {
      const credentials = await this.#d.store.getCredentials(userId);
      const record = await this.#open(userId, credentials);
      if (hash === null || record === null || !record.recovery.includes(hash)) return false;
      // Claimed in the shared limiter first: two nodes racing on the same code cannot both win.
      if (!(await this.#d.limiter.claimOnce(`totp:recovery:${hash}`, RECOVERY_CLAIM_TTL_SEC))) return false;
      await this.#d.store.setTotp(userId, {
        totpSecretSealed: await this.#seal(userId, { ...record, recovery: record.recovery.filter((h) => h !== hash) }),
      });
      return true;
    });
    if (!used) throw new TokenwardError('invalid_code');
    await succeeded();
  }
}
