'use client';
import { useRouter, useSearchParams } from 'next/navigation';
import { type FormEvent, Suspense, useEffect, useState } from 'react';
import { TokenwardClientError, useAuth, useSession } from 'tokenward/react';

/** Only a path on this site (never `//evil.example`): where to go after signing in. */
function safeReturnTo(value: string | null): string {
  return value && /^\/(?![/\\])/.test(value) ? value : '/dashboard';
}

function LoginForm() {
  const session = useSession();
  const { login, signup } = useAuth();
  const router = useRouter();
  const returnTo = safeReturnTo(useSearchParams().get('returnTo'));
  const [error, setError] = useState('');

  // Already signed in (or the SDK just refreshed an expired access token): go on.
  useEffect(() => {
    if (session.status === 'authenticated') router.replace(returnTo);
  }, [session.status, returnTo, router]);

  const submit = (action: 'login' | 'signup') => async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const credentials = { email: String(form.get('email')), password: String(form.get('password')) };
    setError('');
    try {
      await (action === 'login' ? login(credentials) : signup(credentials));
    } catch (e) {
      setError(e instanceof TokenwardClientError ? e.code : 'network_error');
    }
  };

  if (session.status === 'unknown') return <p>Loading…</p>;
  return (
    <main>
      <h1>Sign in</h1>
      <form data-testid="login-form" onSubmit={submit('login')}>
        <input name="email" type="email" autoComplete="username" required />
        <input name="password" type="password" autoComplete="current-password" required />
        <button type="submit">Sign in</button>
      </form>
      <form data-testid="signup-form" onSubmit={submit('signup')}>
        <input name="email" type="email" autoComplete="username" required />
        <input name="password" type="password" autoComplete="new-password" required />
        <button type="submit">Create account</button>
      </form>
      {error && <p role="alert">{error}</p>}
    </main>
  );
}

export default function LoginPage() {
  return (
    <Suspense>
      <LoginForm />
    </Suspense>
  );
}
