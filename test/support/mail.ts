import { type Level, type Logger, pino } from 'pino';
import { expect } from 'vitest';
import type { KeptMail } from '../../src/server/context.js';
import type { TestInstance } from './instance.js';

/** A pino logger that keeps every line (JSON text), to assert that no secret is ever logged. */
export function recordingLogger(level: Level = 'debug'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino({ level, base: null }, { write: (line: string) => void lines.push(line) });
  return { logger, lines };
}

/** Generous mail limits for tests that are not about the limits. */
export const OPEN_MAIL_LIMITS = { limitPerAddress: '100000/1h', limitPerIp: '100000/1h' } as const;

/** Waits until the in-process outbox holds a mail matching `match` (the queue sends on a later turn). */
export async function outboxMail(
  t: TestInstance,
  match: (mail: KeptMail) => boolean,
  timeoutMs = 5000,
): Promise<KeptMail> {
  const start = Date.now();
  for (;;) {
    const found = t.tw.context.mailer?.outbox()?.find(match);
    if (found) return found;
    if (Date.now() - start > timeoutMs) throw new Error('no matching mail in the outbox');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Every mail the outbox kept for an address (newest first), once the queue is idle. */
export async function outboxFor(t: TestInstance, address: string): Promise<KeptMail[]> {
  await new Promise((r) => setImmediate(r));
  await t.tw.context.mailer?.drained();
  return (t.tw.context.mailer?.outbox() ?? []).filter((m) => m.to === address);
}

/** The token of the one `/account/<page>` link of a mail (asserting it stands alone on its line). */
export function outboxToken(mail: Pick<KeptMail, 'text'>, page: string): string {
  const lines = mail.text.split('\n').filter((l) => l.includes(`/account/${page}?token=`));
  expect(lines).toHaveLength(1);
  const url = new URL((lines[0] ?? '').trim());
  expect(url.pathname).toBe(`/account/${page}`);
  return url.searchParams.get('token') ?? '';
}

/** A metric's value from `/metrics` (0 when absent). */
export async function metricValue(t: TestInstance, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await t.request('/metrics')).text();
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  let total = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (wanted.every((w) => line.includes(w))) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
