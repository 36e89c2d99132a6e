'use strict';
// What `require('tokenward')` (and every other entry) resolves to: Tokenward is an ES module
// package. One clear line instead of a stack of loader internals.
const error = new Error(
  "tokenward is ESM-only: use `import { createTokenward } from 'tokenward'` in an ES module (\"type\": \"module\" in package.json, or a .mjs/.mts file), or `await import('tokenward')` from CommonJS",
);
error.code = 'ERR_REQUIRE_ESM';
throw error;
