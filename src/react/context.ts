import { createContext, useContext } from 'react';
import type { StepUpProof, TokenwardClient, TokenwardClientError } from '../client/index.js';

/**
 * A pending step-up request: a guarded call answered 401 `step_up_required` and waits for the
 * user to prove their identity again. Render a password (or TOTP) prompt while it is set.
 *
 * @example
 * ```tsx
 * const { stepUpPrompt } = useAuth();
 * if (stepUpPrompt) return <PasswordDialog error={stepUpPrompt.error?.message} onSubmit={(password) => stepUpPrompt.submit({ password })} onCancel={stepUpPrompt.cancel} />;
 * ```
 */
export interface StepUpPrompt {
  /**
   * Sends the proof (`POST /auth/step-up`). On success the prompt closes and the waiting call is
   * retried once; on failure (wrong password, 429) the prompt stays open with `error` set and the
   * returned promise rejects with the same error.
   */
  submit(proof: StepUpProof): Promise<void>;
  /** Closes the prompt; the waiting call resolves with its original 401 response. */
  cancel(): void;
  /** The last failed `submit`, if any. */
  error: TokenwardClientError | null;
  /** True while a `submit` is in flight. */
  submitting: boolean;
}

/** What the provider shares with the hooks. */
export interface TokenwardContextValue {
  /** The SDK client; `null` during server rendering and before the provider's first effect. */
  client: TokenwardClient | null;
  stepUpPrompt: StepUpPrompt | null;
  /** Opens (or joins) the step-up prompt; resolves true once a step-up succeeded, false if cancelled. */
  requestStepUp(): Promise<boolean>;
}

export const TokenwardContext = createContext<TokenwardContextValue | null>(null);

/** The provider's value, or a clear error when a hook is used outside `<TokenwardProvider>`. */
export function useTokenwardContext(hook: string): TokenwardContextValue {
  const value = useContext(TokenwardContext);
  if (value === null) throw new Error(`tokenward/react: ${hook}() must be used inside <TokenwardProvider>`);
  return value;
}
