/**
 * A small React app on tokenward/react, built with Vite by test/browser/react.test.ts: sign up,
 * log in, log out, a protected call, and a step-up-guarded call with its password prompt.
 */
import { type FormEvent, StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { TokenwardClientError, TokenwardProvider, useAuth, useSession } from 'tokenward/react';

declare global {
  interface Window {
    /** For the test: the SDK's fetch through useAuth(), and every state the app rendered. */
    app?: { fetch: (path: string) => Promise<number>; states: string[] };
  }
}

function Status() {
  const session = useSession();
  const label = session.status === 'authenticated' ? `signed in as ${session.user.email}` : session.status;
  useEffect(() => {
    window.app?.states.push(session.status);
  }, [session.status]);
  return <p data-testid="status">{label}</p>;
}

function StepUpPromptForm() {
  const { stepUpPrompt } = useAuth();
  const [password, setPassword] = useState('');
  if (!stepUpPrompt) return null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    stepUpPrompt.submit({ password }).catch(() => undefined);
  };
  return (
    <form data-testid="step-up" onSubmit={submit}>
      <p>Confirm it is you</p>
      <input name="step-up-password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
      <button type="submit" disabled={stepUpPrompt.submitting}>
        Confirm
      </button>
      <button type="button" onClick={stepUpPrompt.cancel}>
        Cancel
      </button>
      {stepUpPrompt.error && <p data-testid="step-up-error">{stepUpPrompt.error.code}</p>}
    </form>
  );
}

function Account() {
  const auth = useAuth();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [message, setMessage] = useState('');

  useEffect(() => {
    window.app = { states: window.app?.states ?? [], fetch: async (path) => (await auth.fetch(path)).status };
  }, [auth.fetch]);

  const run = (action: () => Promise<unknown>) => () => {
    setMessage('');
    action().then(
      (result) => setMessage(result instanceof Response ? `HTTP ${result.status}` : 'ok'),
      (error: unknown) => setMessage(error instanceof TokenwardClientError ? error.code : String(error)),
    );
  };

  return (
    <main>
      <Status />
      <input name="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      <input name="password" type="password" value={password} onChange={(e) => setPassword(e.target.value)} />
      <button type="button" onClick={run(() => auth.signup({ email, password }))}>
        Sign up
      </button>
      <button type="button" onClick={run(() => auth.login({ email, password }))}>
        Log in
      </button>
      <button type="button" onClick={run(() => auth.logout())}>
        Log out
      </button>
      <button type="button" onClick={run(() => auth.fetch('/api/profile'))}>
        Profile
      </button>
      <button
        type="button"
        onClick={run(() =>
          auth.fetchWithStepUp('/api/transfer', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ amount: 10, to: 'bob' }),
          }),
        )}
      >
        Transfer
      </button>
      <p data-testid="message">{message}</p>
      <StepUpPromptForm />
    </main>
  );
}

const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <TokenwardProvider>
        <Account />
      </TokenwardProvider>
    </StrictMode>,
  );
}
