'use client';
import type { ReactNode } from 'react';
import { TokenwardProvider } from 'tokenward/react';

export function Providers({ children }: { children: ReactNode }) {
  return <TokenwardProvider>{children}</TokenwardProvider>;
}
