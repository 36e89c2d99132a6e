import { z } from 'zod';

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** Parses `600`, `"600"`, `"10m"`, `"14d"`, `"1h30m"` into whole seconds; null when invalid. */
export function parseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (!/^(\d+[smhdw])+$/.test(text)) return null;
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)([smhdw])/g)) total += Number(n) * (UNITS[unit ?? 's'] ?? 1);
  return total;
}

/** Seconds, as a number or a duration text like `"10m"`, `"14d"`. */
export const duration = (name: string) =>
  z.union([z.number(), z.string()]).transform((value, ctx) => {
    const seconds = parseDuration(value);
    if (seconds === null) {
      ctx.addIssue({ code: 'custom', message: `${name} must be seconds or a duration like "10m", "14d"` });
      return z.NEVER;
    }
    return seconds;
  });

/** `"100/15m"` or `{count, window}`. */
export const rate = (name: string) =>
  z
    .union([z.string(), z.object({ count: z.number(), window: z.union([z.number(), z.string()]) })])
    .transform((value, ctx) => {
      const [countText, windowText] =
        typeof value === 'string' ? value.split('/') : [String(value.count), value.window];
      const count = Number(countText);
      const windowSec = parseDuration(windowText);
      if (!Number.isInteger(count) || count < 1 || windowSec === null || windowSec < 1) {
        ctx.addIssue({ code: 'custom', message: `${name} must look like "100/15m" (count/window)` });
        return z.NEVER;
      }
      return { count, windowSec };
    });

/** A boolean, or its text form in the environment (`true`/`false`, `1`/`0`, `yes`/`no`). */
export const bool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .transform((v) => v === true || v === 'true' || v === '1' || v === 'yes');

/** An integer ≥ `min`, or its decimal text. */
export const int = (min: number) =>
  z
    .union([z.number(), z.string().regex(/^\d+$/)])
    .transform(Number)
    .pipe(z.number().int().min(min));

/** A list, or its comma-separated text. */
export const list = z
  .union([z.array(z.string()), z.string()])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

/** JSON text of an env variable (e.g. a list of providers), or the value itself. */
export function jsonText(what: string) {
  return (value: unknown, ctx: z.RefinementCtx): unknown => {
    if (typeof value !== 'string') return value;
    try {
      return JSON.parse(value) as unknown;
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be ${what}` });
      return z.NEVER;
    }
  };
}
