import { useCallback, useSyncExternalStore } from 'react';
import type { AuthState } from '../client/index.js';
import { useTokenwardContext } from './context.js';

const UNKNOWN: AuthState = { status: 'unknown' };
const noop = (): void => undefined;
const serverSnapshot = (): AuthState => UNKNOWN;

/**
 * The auth state every tab agrees on: `{ status: 'unknown' }` (server rendering, and until the
 * server answered), `{ status: 'authenticated', user, session }` or `{ status: 'anonymous' }`.
 * Re-renders when this or another tab logs in or out, or the session is revoked or refreshed.
 *
 * @example
 * ```tsx
 * function Greeting() {
 *   const session = useSession();
 *   if (session.status !== 'authenticated') return null;
 *   return <p>Hello {session.user.name ?? session.user.email}</p>;
 * }
 * ```
 */
export function useSession(): AuthState {
  const { client } = useTokenwardContext('useSession');
  const subscribe = useCallback(
    (onStoreChange: () => void) => (client ? client.onChange(onStoreChange) : noop),
    [client],
  );
  const snapshot = useCallback(() => (client ? client.state() : UNKNOWN), [client]);
  return useSyncExternalStore(subscribe, snapshot, serverSnapshot);
}
