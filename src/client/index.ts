/**
 * `tokenward/client`: the browser SDK. No dependencies; never stores a token anywhere.
 *
 * @example
 * ```ts
 * import { createClient, TokenwardClientError } from 'tokenward/client';
 * const client = createClient();
 * ```
 * @packageDocumentation
 */
export { createClient } from './create-client.js';
export type { ChannelLike, DocumentLike, LockManagerLike } from './env.js';
export { type ClientErrorCode, TokenwardClientError } from './errors.js';
export type {
  AuthState,
  BrowserSupport,
  BrowserVerdict,
  ClientOptions,
  DeviceSession,
  MfaChallenge,
  Session,
  SessionInfo,
  StepUpProof,
  TokenwardClient,
  User,
} from './types.js';
