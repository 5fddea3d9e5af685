/**
 * Tollgate as a benchmark candidate: a database of its own, the real `tollgate serve` pinned
 * to the gateway's core, and the configuration a production request would pass through.
 */
import path from 'node:path';
import { type BenchDatabase, freshDatabase } from './database.ts';
import { BENCH_RATE_LIMITS, BENCH_RULES, BENCH_SPEND_LIMIT } from './policy.ts';
import { freePort, type Started, startNode, waitForHttp } from './processes.ts';
import { TOLLGATE_DIR } from './tollgate-dir.ts';

export const ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';
export const MODEL = 'bench-model';
const MASTER_KEY = 'b'.repeat(64);

export interface RunningTollgate extends Started {
  url: string;
  database: BenchDatabase;
  admin: (method: string, route: string, body?: unknown) => Promise<any>;
  /** Stops the process, and removes its database if it was made for it. */
  close: () => Promise<void>;
}

/** Starts `tollgate serve` on a database (a fresh one unless given) and waits for /health. */
export async function startTollgate(
  core: number,
  options: { database?: BenchDatabase; nodeArgs?: string[]; env?: Record<string, string> } = {},
): Promise<RunningTollgate> {
  const database = options.database ?? (await freshDatabase());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    ...database.env,
    TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN,
    TOLLGATE_LOG_LEVEL: 'warn',
    TOLLGATE_MASTER_KEY: MASTER_KEY,
    NODE_ENV: 'production',
    ...options.env,
  };
  const bin = path.join(TOLLGATE_DIR, 'bin/tollgate.js');
  const started = await startNode('tollgate', core, [...(options.nodeArgs ?? []), bin, 'serve'], {
    env,
    cwd: TOLLGATE_DIR,
  });
  try {
    await waitForHttp(`${url}/health`, 120_000, () => started.child.exitCode === null);
  } catch (error) {
    await started.stop();
    if (!options.database) await database.drop();
    throw new Error(`${(error as Error).message}\n${started.output()}`);
  }
  const admin = async (method: string, route: string, body?: unknown) => {
    const response = await fetch(`${url}${route}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${JSON.stringify(json)}`);
    return json;
  };
  const close = async () => {
    await started.stop();
    if (!options.database) await database.drop();
  };
  return { ...started, url, database, admin, close };
}

/**
 * Everything a benchmark request passes through, set up through the admin API: a credential
 * for the fake provider, a published model with prices, spend limits on the organisation, a
 * project and a user, and a key owned by that user with IAM rules, its own spend limit and rate
 * limits (see policy.ts: generous enough never to refuse a benchmark request). Returns the key.
 */
export async function configureTollgate(tollgate: RunningTollgate, providerUrl: string): Promise<string> {
  await tollgate.admin('POST', '/api/v1/credentials', {
    name: 'bench-provider',
    provider: 'openai-compatible',
    fields: { baseUrl: `${providerUrl}/v1`, apiKey: 'sk-bench' },
  });
  await tollgate.admin('POST', '/api/v1/models', {
    name: MODEL,
    targets: [{ credential: 'bench-provider', upstreamModel: 'bench-upstream' }],
    inputPrice: 2.5,
    outputPrice: 10,
  });
  await tollgate.admin('PATCH', '/api/v1/organization', { spendLimit: BENCH_SPEND_LIMIT });
  await tollgate.admin('POST', '/api/v1/projects', {
    name: 'bench',
    plan: 'enterprise',
    spendLimit: BENCH_SPEND_LIMIT,
  });
  await tollgate.admin('POST', '/api/v1/users', {
    email: 'bench@example.com',
    role: 'member',
    spendLimit: BENCH_SPEND_LIMIT,
  });
  const created = await tollgate.admin('POST', '/api/v1/keys', {
    name: 'bench-key',
    project: 'bench',
    owner: 'bench@example.com',
    rules: BENCH_RULES,
    spendLimit: BENCH_SPEND_LIMIT,
    rateLimits: BENCH_RATE_LIMITS,
  });
  return created.key as string;
}

/** Reads the usage writer's gauges and the served-request counter from /metrics. */
export async function usageMetrics(
  url: string,
): Promise<{ queueDepth: number; written: number; dropped: number; served: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const gauge = (name: string) => Number(text.match(new RegExp(`^${name} (\\S+)$`, 'm'))?.[1] ?? Number.NaN);
  let served = 0;
  for (const match of text.matchAll(/^tollgate_requests_total\{[^}]*\} (\S+)$/gm)) served += Number(match[1]);
  return {
    queueDepth: gauge('tollgate_usage_queue_depth'),
    written: gauge('tollgate_usage_records_written'),
    dropped: gauge('tollgate_usage_records_dropped'),
    served,
  };
}
