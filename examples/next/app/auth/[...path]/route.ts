// Every Tokenward route under /auth: signup, login, refresh, logout, me, sessions, step-up, …
import { auth } from '@/lib/auth';

export const { GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS } = auth.handlers;
