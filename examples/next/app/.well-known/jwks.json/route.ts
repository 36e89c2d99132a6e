// The public keys, for the middleware (and other services) to verify access tokens locally.
import { auth } from '@/lib/auth';

export const { GET } = auth.handlers;
