/**
 * What every example app does besides Tokenward: a few JSON routes, and how to start
 * Tokenward for a local run. Not part of the library.
 */
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { createTokenward, type Tokenward } from 'tokenward';

export interface Note {
  id: string;
  text: string;
  createdAt: string;
}

/** The example's own data: notes per user, in memory. */
export class NoteBook {
  readonly #notes = new Map<string, Note[]>();

  list(userId: string): Note[] {
    return this.#notes.get(userId) ?? [];
  }

  /** Adds a note; null when `text` is not a non-empty string of at most 2000 characters. */
  add(userId: string, text: unknown): Note | null {
    if (typeof text !== 'string' || text.length === 0 || text.length > 2000) return null;
    const note = { id: randomUUID(), text, createdAt: new Date().toISOString() };
    this.#notes.set(userId, [note, ...this.list(userId)].slice(0, 100));
    return note;
  }
}

/** The profile a guarded route returns (looked up in Tokenward's store). */
export async function profileOf(tw: Tokenward, userId: string): Promise<{ id: string; email: string } | null> {
  const user = await tw.context.store.findUserById(userId);
  return user ? { id: user.id, email: user.email } : null;
}

/** True when this module is the process entry (`npx tsx examples/express.ts`). */
export function isMain(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;
}

/** Tokenward for a local run: `PORT` (default 3000), data in `./.tokenward`, env options read. */
export async function startTokenward(): Promise<{ tw: Tokenward; port: number }> {
  const port = Number(process.env.PORT ?? 3000);
  const tw = await createTokenward({ publicOrigin: `http://localhost:${port}` }, { env: process.env });
  return { tw, port };
}
