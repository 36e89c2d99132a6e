import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startRedis } from '../../tools/services.mjs';
import { ScratchDatabases } from '../cli/pg-database.js';
import { startCluster } from '../scale/cluster.js';
import { type ServerProcess, startDemoProcess } from './process.js';

/** One or more real Tokenward processes serving the demo, and how to stop them. */
export interface Deployment {
  name: string;
  nodes: ServerProcess[];
  /** The node for the i-th request of a burst (round robin: a load balancer without stickiness). */
  node(i: number): ServerProcess;
  close(): Promise<void>;
}

function roundRobin(nodes: ServerProcess[]): (i: number) => ServerProcess {
  return (i) => {
    const node = nodes[i % nodes.length];
    if (!node) throw new Error('no nodes');
    return node;
  };
}

/** `npm start` on the embedded store (a SQLite file in a fresh data directory), as a real process. */
export async function startEmbedded(env: Record<string, string> = {}): Promise<Deployment> {
  const dataDir = mkdtempSync(join(tmpdir(), 'tokenward-embedded-'));
  const node = await startDemoProcess({
    TOKENWARD_DATA_DIR: dataDir,
    TOKENWARD_PUBLIC_ORIGIN: 'http://localhost:3000',
    TOKENWARD_LOG_LEVEL: 'error',
    ...env,
  });
  return {
    name: 'embedded',
    nodes: [node],
    node: roundRobin([node]),
    close: async () => {
      await node.kill();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * `count` nodes on an empty database of the shared test PostgreSQL and a Redis of their own (so
 * no other test file's limit counters are seen). Null when the harness gave no PostgreSQL.
 */
export async function startSharedState(env: Record<string, string> = {}, count = 3): Promise<Deployment | null> {
  const base = process.env.TOKENWARD_TEST_DATABASE_URL;
  if (base === undefined || base === '') return null;
  const databases = new ScratchDatabases(base);
  const redis = await startRedis();
  try {
    const databaseUrl = await databases.create('deploy');
    const cluster = await startCluster({ databaseUrl, redisUrl: redis.url, count, env });
    return {
      name: `postgres+redis ×${count}`,
      nodes: cluster.nodes,
      node: roundRobin(cluster.nodes),
      close: async () => {
        await cluster.close();
        await Promise.allSettled([redis.stop(), databases.dropAll()]);
      },
    };
  } catch (error) {
    await Promise.allSettled([redis.stop(), databases.dropAll()]);
    throw error;
  }
}
