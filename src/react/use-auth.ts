import { useMemo } from 'react';
import type { AuthState, MfaChallenge, SessionInfo, StepUpProof, TokenwardClient } from '../client/index.js';
import { type StepUpPrompt, useTokenwardContext } from './context.js';
import { notStarted } from './provider.js';
import { useSession } from './use-session.js';

export type { StepUpPrompt };

/**
 * What {@link useAuth} returns: the state, the SDK's actions, and step-up prompting.
 *
 * @example
 * ```tsx
 * const { state, login, logout }: Auth = useAuth();
 * ```
 */
export interface Auth {
  /** Same as {@link useSession}. */
  state: AuthState;
  /** `POST /auth/login`; every tab becomes signed in. `{ mfaRequired: true }` when TOTP is due. */
  login(credentials: { email: string; password: string }): Promise<SessionInfo | MfaChallenge>;
  /** `POST /auth/login/totp`: the second login step. */
  loginSecondFactor(proof: { code: string } | { recoveryCode: string }): Promise<SessionInfo>;
  /** `POST /auth/signup`; every tab becomes signed in. */
  signup(details: { email: string; password: string; name?: string }): Promise<SessionInfo>;
  /** `POST /auth/logout`; every tab becomes signed out. */
  logout(): Promise<void>;
  /** `POST /auth/logout-all`: every session of the user, on every device. */
  logoutAll(): Promise<void>;
  /** `POST /auth/step-up` directly (see {@link Auth.fetchWithStepUp} for prompting). */
  stepUp(proof: StepUpProof): Promise<{ stepUpUntil: string }>;
  /** The SDK's `fetch`: cookies, CSRF header, one shared refresh on 401. */
  fetch(input: Request | string | URL, init?: RequestInit): Promise<Response>;
  /**
   * Like {@link Auth.fetch}, and when the answer is 401 `step_up_required` it opens
   * {@link Auth.stepUpPrompt}, waits for the user, and retries once after a successful step-up.
   * If the user cancels, it resolves with the original 401 response.
   */
  fetchWithStepUp(input: Request | string | URL, init?: RequestInit): Promise<Response>;
  /** Set while a call waits for the user to step up; render your prompt from it. */
  stepUpPrompt: StepUpPrompt | null;
  /** The underlying SDK client (`null` during server rendering and before the first effect). */
  client: TokenwardClient | null;
}

/**
 * Auth actions for components: login, signup, logout, step-up (with a prompt you render), and
 * the SDK's `fetch`. Actions run in the browser (event handlers, effects); called before the
 * provider started its client they reject with a clear error.
 *
 * @example
 * ```tsx
 * function Transfer() {
 *   const { fetchWithStepUp, stepUpPrompt } = useAuth();
 *   const send = () => fetchWithStepUp('/api/transfer', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"amount":10}' });
 *   return (
 *     <>
 *       <button onClick={send}>Send</button>
 *       {stepUpPrompt && <PasswordPrompt onSubmit={(password) => stepUpPrompt.submit({ password })} onCancel={stepUpPrompt.cancel} />}
 *     </>
 *   );
 * }
 * ```
 */
export function useAuth(): Auth {
  const { client, stepUpPrompt, requestStepUp } = useTokenwardContext('useAuth');
  const state = useSession();
  const actions = useMemo(() => {
    const started = (action: string): TokenwardClient => {
      if (!client) throw notStarted(action);
      return client;
    };
    const fetchWithStepUp = async (input: Request | string | URL, init?: RequestInit): Promise<Response> => {
      const sdk = started('fetchWithStepUp');
      // Keep a copy: the first attempt consumes a Request's body.
      const again = input instanceof Request ? input.clone() : input;
      const response = await sdk.fetch(input, init);
      if (response.status !== 401) return response;
      const { code } = (await response
        .clone()
        .json()
        .catch(() => ({}))) as { code?: string };
      if (code !== 'step_up_required') return response;
      return (await requestStepUp()) ? sdk.fetch(again, init) : response;
    };
    return {
      login: async (credentials: { email: string; password: string }) => started('login').login(credentials),
      loginSecondFactor: async (proof: { code: string } | { recoveryCode: string }) =>
        started('loginSecondFactor').loginSecondFactor(proof),
      signup: async (details: { email: string; password: string; name?: string }) => started('signup').signup(details),
      logout: async () => started('logout').logout(),
      logoutAll: async () => started('logoutAll').logoutAll(),
      stepUp: async (proof: StepUpProof) => started('stepUp').stepUp(proof),
      fetch: async (input: Request | string | URL, init?: RequestInit) => started('fetch').fetch(input, init),
      fetchWithStepUp,
    };
  }, [client, requestStepUp]);
  return { state, ...actions, stepUpPrompt, client };
}
