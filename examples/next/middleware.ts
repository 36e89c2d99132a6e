// Runs on the edge runtime before every /dashboard page: a valid access token or a redirect to
// /login?returnTo=… (the login page refreshes the session first if it can).
import { createAuthMiddleware } from 'tokenward/next/middleware';

export default createAuthMiddleware({
  issuer: process.env.TOKENWARD_PUBLIC_ORIGIN ?? 'http://localhost:3000',
  loginPath: '/login',
});

export const config = { matcher: ['/dashboard/:path*'] };
