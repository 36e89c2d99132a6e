'use client';
import { useRouter } from 'next/navigation';
import { useAuth } from 'tokenward/react';

export function LogoutButton() {
  const { logout } = useAuth();
  const router = useRouter();
  return (
    <button
      type="button"
      onClick={async () => {
        await logout();
        router.replace('/login');
      }}
    >
      Sign out
    </button>
  );
}
