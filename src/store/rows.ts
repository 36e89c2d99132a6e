import type {
  AuthEvent,
  Credentials,
  RevokeReason,
  Session,
  SigningKeyRecord,
  SigningKeyState,
  User,
} from '../kernel/ports.js';
import type { RefreshState } from '../kernel/refresh/decide-rotation.js';

/*
 * Row shapes of the SQL tables (snake_case, times as epoch-ms numbers, booleans as 0/1, JSON as
 * text) and their mapping to the records of ports.ts. Shared by the SQLite and PostgreSQL stores.
 */

export interface UserRow {
  id: string;
  email: string;
  name: string | null;
  created_at: number;
  /** Migration 0004: 0 or 1. */
  email_verified: number;
  /** Migration 0007: when the account was disabled, or null. */
  disabled_at: number | null;
}

export interface CredentialsRow {
  user_id: string;
  password_hash: string;
  totp_secret_sealed: string | null;
  totp_confirmed_at: number | null;
  totp_last_step: number | null;
}

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  last_active_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  auth_time: number;
  amr: string;
  revoked_at: number | null;
  revoke_reason: string | null;
  ip: string;
  user_agent: string;
  device_id: string | null;
  new_device: number;
  dpop_jkt: string | null;
  /** Migration 0003. */
  client_id: string | null;
  /** Migration 0006: the refresh state (kernel/refresh/decide-rotation.ts), constant per session. */
  refresh_generation: number;
  refresh_hash: string | null;
  refresh_previous_hash: string | null;
  refresh_rotated_at: number | null;
  refresh_rotated_by: string | null;
  refresh_successor_sealed: string | null;
  refresh_older_hash: string | null;
  refresh_older_rotated_at: number | null;
  refresh_older_rotated_by: string | null;
  refresh_older_successor_sealed: string | null;
}

export interface RefreshTokenRow {
  hash: string;
  session_id: string;
  parent_hash: string | null;
  created_at: number;
  used_at: number | null;
  successor_hash: string | null;
  successor_sealed: string | null;
  /** Migration 0003: digest of the presenter that rotated the token. */
  rotated_by: string | null;
}

export interface EventRow {
  id: string;
  user_id: string | null;
  type: string;
  at: number;
  ip: string | null;
  session_id: string | null;
  device: string | null;
  data: string | null;
}

export interface SigningKeyRow {
  kid: string;
  alg: string;
  state: string;
  public_jwk: string;
  private_jwk_sealed: string;
  created_at: number;
  updated_at: number;
}

export interface RevocationRow {
  session_id: string;
  at: number;
}

/** A row of `federated_identities` (migration 0002). */
export interface FederatedIdentityRow {
  issuer: string;
  subject: string;
  user_id: string;
  email: string | null;
  created_at: number;
}

/** A row of `artifacts` (migration 0005). */
export interface ArtifactRow {
  hash: string;
  kind: string;
  user_id: string | null;
  session_id: string | null;
  data: string | null;
  created_at: number;
  expires_at: number;
  consumed_at: number | null;
}

/** The typed database for Kysely. */
export interface Database {
  artifacts: ArtifactRow;
  users: UserRow;
  credentials: CredentialsRow;
  sessions: SessionRow;
  refresh_tokens: RefreshTokenRow;
  events: EventRow;
  signing_keys: SigningKeyRow;
  revocations: RevocationRow;
  federated_identities: FederatedIdentityRow;
}

/** Columns of `sessions` in insertion order (the SQLite statements bind them by name). */
export const SESSION_COLUMNS = [
  'id',
  'user_id',
  'created_at',
  'last_active_at',
  'idle_expires_at',
  'absolute_expires_at',
  'auth_time',
  'amr',
  'revoked_at',
  'revoke_reason',
  'ip',
  'user_agent',
  'device_id',
  'new_device',
  'dpop_jkt',
  'client_id',
  'refresh_generation',
  'refresh_hash',
  'refresh_previous_hash',
  'refresh_rotated_at',
  'refresh_rotated_by',
  'refresh_successor_sealed',
  'refresh_older_hash',
  'refresh_older_rotated_at',
  'refresh_older_rotated_by',
  'refresh_older_successor_sealed',
] as const satisfies ReadonlyArray<keyof SessionRow>;

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    emailVerified: Number(row.email_verified) === 1,
    name: row.name,
    createdAt: Number(row.created_at),
    // Only a disabled account carries the field: an active user reads exactly as before migration 0007.
    ...(row.disabled_at == null ? {} : { disabledAt: Number(row.disabled_at) }),
  };
}

export function toCredentials(row: CredentialsRow): Credentials {
  return {
    userId: row.user_id,
    passwordHash: row.password_hash,
    totpSecretSealed: row.totp_secret_sealed,
    totpConfirmedAt: nullableNumber(row.totp_confirmed_at),
    totpLastStep: nullableNumber(row.totp_last_step),
  };
}

export function toSession(row: SessionRow): Session {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: Number(row.created_at),
    lastActiveAt: Number(row.last_active_at),
    idleExpiresAt: Number(row.idle_expires_at),
    absoluteExpiresAt: Number(row.absolute_expires_at),
    authTime: Number(row.auth_time),
    amr: parseAmr(row.amr),
    revokedAt: nullableNumber(row.revoked_at),
    revokeReason: row.revoke_reason as RevokeReason | null,
    ip: row.ip,
    userAgent: row.user_agent,
    deviceId: row.device_id,
    newDevice: Number(row.new_device) === 1,
    dpopJkt: row.dpop_jkt,
    clientId: row.client_id,
  };
}

export function fromSession(s: Session): SessionRow {
  return {
    id: s.id,
    user_id: s.userId,
    created_at: s.createdAt,
    last_active_at: s.lastActiveAt,
    idle_expires_at: s.idleExpiresAt,
    absolute_expires_at: s.absoluteExpiresAt,
    auth_time: s.authTime,
    amr: JSON.stringify(s.amr),
    revoked_at: s.revokedAt,
    revoke_reason: s.revokeReason,
    ip: s.ip,
    user_agent: s.userAgent,
    device_id: s.deviceId,
    new_device: s.newDevice ? 1 : 0,
    dpop_jkt: s.dpopJkt,
    client_id: s.clientId,
    refresh_generation: 0,
    refresh_hash: null,
    refresh_previous_hash: null,
    refresh_rotated_at: null,
    refresh_rotated_by: null,
    refresh_successor_sealed: null,
    refresh_older_hash: null,
    refresh_older_rotated_at: null,
    refresh_older_rotated_by: null,
    refresh_older_successor_sealed: null,
  };
}

export function toEvent(row: EventRow): AuthEvent {
  return {
    id: row.id,
    userId: row.user_id,
    type: row.type,
    at: Number(row.at),
    ip: row.ip,
    sessionId: row.session_id,
    device: row.device,
    data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
  };
}

export function fromEvent(e: AuthEvent): EventRow {
  return {
    id: e.id,
    user_id: e.userId,
    type: e.type,
    at: e.at,
    ip: e.ip,
    session_id: e.sessionId,
    device: e.device,
    data: e.data === null ? null : JSON.stringify(e.data),
  };
}

export function toSigningKey(row: SigningKeyRow): SigningKeyRecord {
  return {
    kid: row.kid,
    alg: row.alg,
    state: row.state as SigningKeyState,
    publicJwk: row.public_jwk,
    privateJwkSealed: row.private_jwk_sealed,
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

export function fromSigningKey(k: SigningKeyRecord): SigningKeyRow {
  return {
    kid: k.kid,
    alg: k.alg,
    state: k.state,
    public_jwk: k.publicJwk,
    private_jwk_sealed: k.privateJwkSealed,
    created_at: k.createdAt,
    updated_at: k.updatedAt,
  };
}

function nullableNumber(value: number | string | null): number | null {
  return value === null ? null : Number(value);
}

function parseAmr(text: string): string[] {
  const value: unknown = JSON.parse(text);
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The refresh state of a session row (see {@link RefreshState}). */
export function toRefreshState(row: SessionRow): RefreshState {
  return {
    generation: Number(row.refresh_generation),
    hash: row.refresh_hash,
    previousHash: row.refresh_previous_hash,
    rotatedAt: nullableNumber(row.refresh_rotated_at),
    rotatedBy: row.refresh_rotated_by,
    successorSealed: row.refresh_successor_sealed,
    older: {
      hash: row.refresh_older_hash,
      rotatedAt: nullableNumber(row.refresh_older_rotated_at),
      rotatedBy: row.refresh_older_rotated_by,
      successorSealed: row.refresh_older_successor_sealed,
    },
  };
}
