/**
 * What TypeScript sees for `require('tokenward')`: the package is ESM-only. Import it from an ES
 * module (`"type": "module"` in package.json, or a .mts/.mjs file), or use `await import('tokenward')`.
 */
declare const tokenwardIsEsmOnly: {
  readonly 'tokenward is ESM-only: use import (in an ES module) or await import() from CommonJS': never;
};
export = tokenwardIsEsmOnly;
