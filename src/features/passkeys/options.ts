import { isIP } from 'node:net';
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import type { KernelConfig } from '../../kernel/config/kernel-config.js';
import { bool, list } from '../../kernel/config/option-types.js';

/** A DNS name (an RP ID is a domain, never a URL, an IP address or a port). */
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * The `passkeys` option (WebAuthn). Everything is derived from the public origin unless set:
 *
 * - `enabled` (`TOKENWARD_PASSKEYS`): on by default wherever browsers allow WebAuthn (a secure
 *   context on a domain name); `@simplewebauthn/server` is loaded only at the first passkey request.
 * - `rpId` (`TOKENWARD_PASSKEYS_RP_ID`): the WebAuthn relying party ID — `cookies.domain` in
 *   parent-domain mode (one passkey for `app.` and `api.`), else the public origin's host.
 * - `rpName` (`TOKENWARD_PASSKEYS_RP_NAME`): shown by the authenticator; default the public host.
 * - `origins` (`TOKENWARD_PASSKEYS_ORIGINS`): where a ceremony may happen (`clientDataJSON.origin`);
 *   default the public origin and every trusted origin under the RP ID.
 *
 * @example
 * ```ts
 * createTokenward({ publicOrigin: 'https://app.example.com', cookies: { domain: 'example.com' }, passkeys: { rpName: 'Example' } });
 * ```
 */
export const passkeysOptionsSchema = z
  .object({
    enabled: bool.optional(),
    rpId: z.string().max(253).optional(),
    rpName: z.string().min(1).max(64).optional(),
    origins: list.optional(),
  })
  .strict();

/** The resolved `passkeys` slice. */
export interface PasskeysConfig {
  enabled: boolean;
  rpId: string;
  rpName: string;
  /** Exact origins (`scheme://host[:port]`) a ceremony's `clientDataJSON.origin` may name. */
  origins: string[];
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

function isUnder(host: string, rpId: string): boolean {
  return host === rpId || host.endsWith(`.${rpId}`);
}

/**
 * Secure contexts only (WebAuthn §5.1.3 refuses others): https, or http on localhost (the
 * browser treats it as secure), on a DNS name: an IP address can never be an RP ID.
 */
function webAuthnUsable(origin: URL): boolean {
  if (isIP(origin.hostname.replace(/^\[|\]$/g, '')) !== 0 || !HOST_NAME.test(origin.hostname)) return false;
  return origin.protocol === 'https:' || (origin.protocol === 'http:' && LOOPBACK.has(origin.hostname));
}

/**
 * Defaults and the rules between options. Throws {@link ConfigError} with one line naming the
 * option and its environment variable.
 */
export function resolvePasskeysConfig(
  parsed: z.output<typeof passkeysOptionsSchema> | undefined,
  kernel: KernelConfig,
): PasskeysConfig {
  const o = parsed ?? {};
  const publicUrl = new URL(kernel.publicOrigin);
  const usable = webAuthnUsable(publicUrl);
  const enabled = o.enabled ?? usable;
  const rpId = (o.rpId ?? kernel.cookies.domain ?? publicUrl.hostname).toLowerCase();
  const off: PasskeysConfig = { enabled: false, rpId, rpName: o.rpName ?? publicUrl.hostname, origins: [] };
  if (!enabled) return off;
  if (!usable) {
    throw new ConfigError(
      `Invalid configuration: passkeys.enabled (env TOKENWARD_PASSKEYS): browsers offer WebAuthn only to a secure origin on a domain name (https, or http://localhost); ${kernel.publicOrigin} is not one`,
    );
  }
  if (!HOST_NAME.test(rpId) || (!rpId.includes('.') && rpId !== 'localhost')) {
    throw new ConfigError(
      `Invalid configuration: passkeys.rpId (env TOKENWARD_PASSKEYS_RP_ID): "${rpId}" must be a domain name like example.com`,
    );
  }
  // WebAuthn §5.1.3/§5.1.4: the RP ID is the origin's host or a registrable suffix of it.
  if (!isUnder(publicUrl.hostname, rpId)) {
    throw new ConfigError(
      `Invalid configuration: passkeys.rpId (env TOKENWARD_PASSKEYS_RP_ID): "${rpId}" is not ${publicUrl.hostname} or a parent of it`,
    );
  }
  let origins: string[];
  if (o.origins !== undefined) {
    origins = o.origins.map((value) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        throw new ConfigError(
          `Invalid configuration: passkeys.origins (env TOKENWARD_PASSKEYS_ORIGINS): "${value}" is not an origin like https://app.example.com`,
        );
      }
      if (url.origin !== value.replace(/\/$/, '') || !webAuthnUsable(url) || !isUnder(url.hostname, rpId)) {
        throw new ConfigError(
          `Invalid configuration: passkeys.origins (env TOKENWARD_PASSKEYS_ORIGINS): "${value}" must be a secure origin (scheme://host[:port]) under the RP ID ${rpId}`,
        );
      }
      return url.origin;
    });
    if (origins.length === 0)
      throw new ConfigError(
        'Invalid configuration: passkeys.origins (env TOKENWARD_PASSKEYS_ORIGINS): name at least one origin',
      );
  } else {
    // A trusted origin outside the RP ID could never produce a valid assertion anyway: left out.
    origins = [kernel.publicOrigin, ...kernel.trustedOrigins].filter((value) => {
      const url = new URL(value);
      return webAuthnUsable(url) && isUnder(url.hostname, rpId);
    });
  }
  return { enabled: true, rpId, rpName: o.rpName ?? publicUrl.hostname, origins: [...new Set(origins)] };
}
