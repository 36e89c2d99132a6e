import { createElement, type ReactNode, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  type ClientOptions,
  createClient,
  type StepUpProof,
  type TokenwardClient,
  TokenwardClientError,
} from '../client/index.js';
import { type StepUpPrompt, TokenwardContext, type TokenwardContextValue } from './context.js';

/**
 * Props of {@link TokenwardProvider}.
 *
 * @example
 * ```tsx
 * <TokenwardProvider options={{ baseUrl: 'https://api.example.com' }}><App /></TokenwardProvider>
 * ```
 */
export interface TokenwardProviderProps {
  /**
   * A client you created yourself (`createClient()` from `tokenward/client`, in the browser). The
   * provider never closes it. Without it, the provider creates one in an effect and closes it on
   * unmount.
   */
  client?: TokenwardClient;
  /** Options for the client the provider creates (read once, at mount). Ignored with `client`. */
  options?: ClientOptions;
  children?: ReactNode;
}

/** Clients already asked `GET /auth/me` (StrictMode runs effects twice; ask once). */
const asked = new WeakSet<TokenwardClient>();

interface PendingStepUp {
  waiters: Array<(ok: boolean) => void>;
}

/**
 * Makes the Tokenward browser SDK available to {@link useSession} and {@link useAuth}. Starts the
 * client after mount (never during render, so server rendering is safe) and asks the server once
 * whether the browser is signed in (`GET /auth/me`).
 *
 * @example
 * ```tsx
 * import { createRoot } from 'react-dom/client';
 * import { TokenwardProvider } from 'tokenward/react';
 *
 * createRoot(document.getElementById('root')!).render(
 *   <TokenwardProvider>
 *     <App />
 *   </TokenwardProvider>,
 * );
 * ```
 */
export function TokenwardProvider(props: TokenwardProviderProps): ReactNode {
  const [created, setCreated] = useState<TokenwardClient | null>(null);
  const client = props.client ?? created;
  const optionsAtMount = useRef(props.options);
  const external = props.client !== undefined;

  useEffect(() => {
    if (external) return;
    const own = createClient(optionsAtMount.current);
    setCreated(own);
    return () => {
      own.close();
      setCreated(null);
    };
  }, [external]);

  useEffect(() => {
    // Swallowed: a network failure leaves the state `unknown`; the next call or tab retries.
    if (!client || asked.has(client) || client.state().status !== 'unknown') return;
    asked.add(client);
    client.me().catch(() => asked.delete(client));
  }, [client]);

  const pending = useRef<PendingStepUp | null>(null);
  const [prompt, setPrompt] = useState<{ error: TokenwardClientError | null; submitting: boolean } | null>(null);

  const settle = useCallback((ok: boolean) => {
    const waiting = pending.current;
    pending.current = null;
    setPrompt(null);
    for (const resolve of waiting?.waiters ?? []) resolve(ok);
  }, []);

  const requestStepUp = useCallback((): Promise<boolean> => {
    return new Promise<boolean>((resolve) => {
      if (pending.current) pending.current.waiters.push(resolve);
      else {
        pending.current = { waiters: [resolve] };
        setPrompt({ error: null, submitting: false });
      }
    });
  }, []);

  const submit = useCallback(
    async (proof: StepUpProof): Promise<void> => {
      if (!client) throw notStarted('stepUp');
      setPrompt((p) => p && { ...p, submitting: true });
      try {
        await client.stepUp(proof);
      } catch (error) {
        const failure =
          error instanceof TokenwardClientError
            ? error
            : new TokenwardClientError(0, 'unknown', (error as Error).message);
        setPrompt((p) => p && { error: failure, submitting: false });
        throw failure;
      }
      settle(true);
    },
    [client, settle],
  );

  const stepUpPrompt = useMemo<StepUpPrompt | null>(
    () => (prompt ? { submit, cancel: () => settle(false), error: prompt.error, submitting: prompt.submitting } : null),
    [prompt, submit, settle],
  );

  const value = useMemo<TokenwardContextValue>(
    () => ({ client, stepUpPrompt, requestStepUp }),
    [client, stepUpPrompt, requestStepUp],
  );
  return createElement(TokenwardContext.Provider, { value }, props.children);
}

/** The error an auth action throws when called before the client started (or on the server). */
export function notStarted(action: string): Error {
  return new Error(
    `tokenward/react: ${action}() was called before <TokenwardProvider> started its client; auth actions run in the browser, from event handlers or effects`,
  );
}
