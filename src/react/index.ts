/**
 * `tokenward/react`: React bindings of the browser SDK — `<TokenwardProvider>`, `useSession()`,
 * `useAuth()`. Built on `tokenward/client`, so tabs share one refresh and learn of each other's
 * login and logout; no token is ever held in JavaScript. SSR-safe: nothing touches `window` or
 * `document` during render (the client starts in an effect), so `renderToString` renders the
 * `unknown` state.
 *
 * @example
 * ```tsx
 * import { TokenwardProvider, useAuth, useSession } from 'tokenward/react';
 *
 * function Account() {
 *   const session = useSession();
 *   const { logout } = useAuth();
 *   if (session.status === 'unknown') return <p>Loading…</p>;
 *   if (session.status === 'anonymous') return <LoginForm />;
 *   return <button onClick={() => logout()}>Sign out {session.user.email}</button>;
 * }
 *
 * export const App = () => <TokenwardProvider><Account /></TokenwardProvider>;
 * ```
 * @packageDocumentation
 */

export type {
  AuthState,
  MfaChallenge,
  Session,
  SessionInfo,
  StepUpProof,
  TokenwardClient,
  User,
} from '../client/index.js';
export { TokenwardClientError } from '../client/index.js';
export { TokenwardProvider, type TokenwardProviderProps } from './provider.js';
export { type Auth, type StepUpPrompt, useAuth } from './use-auth.js';
export { useSession } from './use-session.js';
