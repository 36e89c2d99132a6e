import Link from 'next/link';
import { auth } from '@/lib/auth';

export const dynamic = 'force-dynamic';

export default async function Home() {
  const session = await auth.getSession();
  return (
    <main>
      <h1>Tokenward + Next.js</h1>
      <p data-testid="home-status">{session ? 'signed in' : 'signed out'}</p>
      <Link href="/dashboard">Dashboard</Link> · <Link href="/login">Sign in</Link>
    </main>
  );
}
