import type { SecondFactor } from '../../kernel/login/factors.js';
import { iso } from '../../server/http.js';
import type { FeatureModule } from '../feature.js';
import { passkeyManagementEndpoints } from './endpoints.js';
import { passkeyLoginEndpoints } from './login-endpoints.js';
import type { PasskeysConfig } from './options.js';
import { PasskeyService } from './passkey-service.js';
import { passkeyStepUpEndpoints, passkeyStepUpMethod } from './step-up.js';
import { passkeyStoreFor } from './store.js';

export const setup: FeatureModule['setup'] = async (ctx) => {
  const config = ctx.config.passkeys as PasskeysConfig;
  const store = passkeyStoreFor(ctx.store);
  const passkeys = new PasskeyService(ctx, config, store, await ctx.deriveKey('hmac', 'passkey-decoy'));
  /**
   * A passkey as the second step of a password (or federated) login. Asked only when requireMfa
   * is on: then the account's passkey is its second factor. Without the policy a passkey is a
   * way in of its own (a full session by itself) and adding one does not make the password
   * login ask for it — a user who lost the device keeps the password. With TOTP on, the second
   * step still accepts a passkey instead of a code (`POST /auth/login/passkey`).
   */
  const factor: SecondFactor = {
    id: 'passkey',
    isEnrolled: async (userId) => ctx.config.requireMfa && (await store.countForUser(userId)) > 0,
    enrolledCount: (userId) => store.countForUser(userId),
  };
  return {
    // Management last: its `/passkeys/:id` routes (and their 405 for other methods) would
    // otherwise also match `/passkeys/login`, which is mounted in this order.
    endpoints: [
      ...passkeyLoginEndpoints(ctx, passkeys),
      ...passkeyStepUpEndpoints(ctx, passkeys),
      ...passkeyManagementEndpoints(ctx, passkeys),
    ],
    factors: [factor],
    stepUpMethods: [passkeyStepUpMethod(ctx, passkeys)],
    // The export lists the passkeys, never their key material or credential ids.
    exportAccount: async (userId) => ({
      passkeys: (await store.listForUser(userId)).map((p) => ({
        id: p.id,
        name: p.name,
        createdAt: iso(p.createdAt),
        lastUsedAt: p.lastUsedAt === null ? null : iso(p.lastUsedAt),
        backedUp: p.backedUp,
        deviceType: p.deviceType,
        transports: p.transports,
        aaguid: p.aaguid,
      })),
    }),
  };
};
