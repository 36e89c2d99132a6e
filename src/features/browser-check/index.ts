import { defineFeature, defineOptions } from '../feature.js';
import { type BrowsersConfig, browsersOptionsSchema, resolveBrowsersConfig } from './options.js';

/**
 * The browser check: classifies the browser behind a request as `supported`, `degraded` (served
 * through the Origin / signed double-submit fallback) or `unsupported` (ignores `HttpOnly` or
 * `SameSite`, or retired), says so as `browser: {status, reason}` in `/auth/me` and the login and
 * signup answers (and `GET /auth/browser` for a visitor not signed in), and — with
 * `browsers.unsupported: 'block'` — refuses logins from unsupported browsers. Always on.
 */
export const browserCheckFeature = defineFeature({
  id: 'browser-check',
  options: defineOptions({
    key: 'browsers',
    schema: browsersOptionsSchema,
    env: { TOKENWARD_BROWSERS_UNSUPPORTED: 'browsers.unsupported' },
    resolve: (parsed): BrowsersConfig => resolveBrowsersConfig(parsed),
  }),
  enabled: () => true,
  errors: ['browser_unsupported'],
  load: () => import('./module.js'),
});
