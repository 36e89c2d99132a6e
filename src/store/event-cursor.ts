/**
 * Opaque cursor of an event page: the (at, id) of the last event returned. Events are ordered by
 * `at` then `id`, both descending, so the cursor is stable under concurrent inserts.
 */
export interface EventCursor {
  at: number;
  id: string;
}

export function encodeEventCursor(cursor: EventCursor): string {
  return Buffer.from(`${cursor.at}:${cursor.id}`, 'utf8').toString('base64url');
}

/** Null for anything that is not a cursor this store produced. */
export function decodeEventCursor(text: string): EventCursor | null {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(text)) return null;
  const decoded = Buffer.from(text, 'base64url').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return null;
  const at = Number(decoded.slice(0, colon));
  const id = decoded.slice(colon + 1);
  if (!Number.isSafeInteger(at) || id.length === 0) return null;
  return { at, id };
}
