/**
 * OAuth client ids (RFC 6749 §2.2) as they appear in access tokens (RFC 9068 §2.2 `client_id`).
 *
 * - Cookie sessions belong to the browser client: the web app served at the public origin, so
 *   its id is that origin ({@link browserClientId}).
 * - `/auth/token` sessions belong to the client the request names in `client_id`, or to
 *   {@link DEFAULT_NATIVE_CLIENT_ID} when it names none.
 */

/** The client id of `/auth/token` sessions whose request carries no `client_id`. */
export const DEFAULT_NATIVE_CLIENT_ID = 'tokenward-native';

/** Longest `client_id` accepted: it rides in every access token, and the cookie budget counts it. */
export const MAX_CLIENT_ID_LENGTH = 128;

/** RFC 6749 Appendix A.1 VSCHAR, without the space (an id with spaces is a client's mistake). */
const CLIENT_ID_SHAPE = /^[\x21-\x7e]+$/;

/**
 * Whether `value` can be a client id in Tokenward's tokens: 1–128 printable ASCII characters,
 * no space.
 *
 * @example
 * ```ts
 * isValidClientId('com.example.app'); // true
 * isValidClientId('ünicode');         // false
 * ```
 */
export function isValidClientId(value: string): boolean {
  return value.length > 0 && value.length <= MAX_CLIENT_ID_LENGTH && CLIENT_ID_SHAPE.test(value);
}

/** The browser client's id: the public origin the web app is served at. */
export function browserClientId(publicOrigin: string): string {
  return publicOrigin;
}
