#!/usr/bin/env node
// `npm test`: installs and starts what the suites need (Chromium, PostgreSQL, Redis from Debian
// packages when missing), then runs vitest once over every suite, then stops the services.
import { spawnSync } from 'node:child_process';

const args = process.argv.slice(2);
const result = spawnSync('npx', ['vitest', 'run', ...args], { stdio: 'inherit', env: process.env });
process.exit(result.status ?? 1);
