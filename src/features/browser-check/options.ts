import { z } from 'zod';

/**
 * The `browsers` option: what a login or signup from a browser known to ignore `HttpOnly` or
 * `SameSite` (or retired by its vendor) gets. See docs/browsers.md.
 * - `warn` (default): it is let through; the answers carry `browser: {status: 'unsupported', reason}`
 *   so the app can tell the user.
 * - `block`: 400 `browser_unsupported` at login and signup (and every other way in), before any
 *   account is created or secret checked.
 *
 * @example
 * ```ts
 * createTokenward({ browsers: { unsupported: 'block' } }); // or TOKENWARD_BROWSERS_UNSUPPORTED=block
 * ```
 */
export const browsersOptionsSchema = z
  .object({
    unsupported: z.enum(['warn', 'block'], { message: 'must be "warn" or "block"' }).optional(),
  })
  .strict();

/** The resolved `browsers` configuration. */
export interface BrowsersConfig {
  /** What a login from an `unsupported` browser gets. */
  unsupported: 'warn' | 'block';
}

/**
 * Applies the defaults to a parsed `browsers` option (`unsupported: 'warn'`).
 *
 * @example
 * ```ts
 * resolveBrowsersConfig(undefined); // { unsupported: 'warn' }
 * ```
 */
export function resolveBrowsersConfig(parsed: z.output<typeof browsersOptionsSchema> | undefined): BrowsersConfig {
  return { unsupported: parsed?.unsupported ?? 'warn' };
}
