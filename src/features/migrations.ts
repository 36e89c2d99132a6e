import type { Migration } from 'kysely';
import { federatedIdentities } from './oidc-login/migrations/0002-federated-identities.js';
import { passkeys } from './passkeys/migrations/0008-passkeys.js';

/**
 * The features' schema changes, by name (the numbers order them with the kernel's). Imported by
 * the stores without loading any feature: a migration file imports Kysely only. Every migration
 * always runs, whatever is enabled: the schema never depends on the configuration. A test checks
 * this list against each feature's descriptor and its `migrations/` folder.
 */
export const FEATURE_MIGRATIONS: Readonly<Record<string, Migration>> = {
  '0002-federated-identities': federatedIdentities,
  '0008-passkeys': passkeys,
};
