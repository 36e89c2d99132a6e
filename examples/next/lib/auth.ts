import { createNextAuth } from 'tokenward/next';

/**
 * Tokenward for this app, configured from TOKENWARD_* (TOKENWARD_PUBLIC_ORIGIN,
 * TOKENWARD_DATA_DIR, …). The instance starts at the first request (never during `next build`)
 * and is shared by every route handler and server component of the process.
 */
export const auth = createNextAuth({ dependencies: { env: process.env }, loginPath: '/login' });
