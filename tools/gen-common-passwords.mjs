// Regenerates data/common-passwords.txt from the zxcvbn-ts "passwords" frequency list
// (MIT, derived from leaked-password corpora, most common first). Run: node tools/gen-common-passwords.mjs

import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const list = require('@zxcvbn-ts/language-common/src/passwords.json');
const seen = new Set();
for (const p of list) seen.add(String(p).normalize('NFKC').toLowerCase());
writeFileSync(new URL('../data/common-passwords.txt', import.meta.url), `${[...seen].join('\n')}\n`);
console.log(`wrote ${seen.size} passwords to data/common-passwords.txt`);
