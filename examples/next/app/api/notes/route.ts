// A route handler guarded like tw.requireSession(): a session, and the CSRF rule on POST.
import { auth } from '@/lib/auth';

export const POST = auth.withSession(async (request, session) => {
  const body = (await request.json().catch(() => null)) as { text?: unknown } | null;
  if (typeof body?.text !== 'string' || body.text.length === 0 || body.text.length > 2000) {
    return Response.json({ error: 'text must be 1 to 2000 characters' }, { status: 400 });
  }
  return Response.json({ note: { text: body.text, by: session.userId } }, { status: 201 });
});
