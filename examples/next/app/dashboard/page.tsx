import { auth } from '@/lib/auth';
import { LogoutButton } from './logout-button';

export const dynamic = 'force-dynamic';

// A server component: the session is verified on the server (no cookie written, no refresh);
// signed out, requireSession() redirects to /login.
export default async function Dashboard() {
  const session = await auth.requireSession({ returnTo: '/dashboard' });
  const tw = await auth.instance();
  const user = await tw.context.store.findUserById(session.userId);
  return (
    <main>
      <h1>Dashboard</h1>
      <p data-testid="dashboard-user">{user?.email}</p>
      <p>
        Session <code>{session.sessionId}</code>, signed in with {session.claims.amr.join(', ')}
      </p>
      <LogoutButton />
    </main>
  );
}
