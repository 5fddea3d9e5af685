/**
 * `tollgate serve --workers N`: requests per second against the fake provider with one process
 * and with 2..N workers (N = the cores this machine offers, at least 2), on the embedded database
 * and, when TEST_DATABASE_URL (or BENCH_DATABASE_URL) names a PostgreSQL server, on PostgreSQL
 * alone and, with TEST_REDIS_URL (or REDIS_URL), on PostgreSQL + Redis. Prints a table (see
 * docs/workers.md).
 *
 *   node --import tsx bench/workers.ts [--seconds=10] [--connections=64] [--rounds=3]
 *
 * Nothing is pinned: Tollgate's processes, the fake provider and this load generator share the
 * machine's cores, as they would on a small host; on two cores the load generator takes a good
 * part of one, so the curve shows what the workers gain with what is left.
 */
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import { startProvider } from './candidates.ts';
import { type BenchDatabase, freshDatabase } from './database.ts';
import { chatBody, type Target, throughput } from './measure.ts';
import { cpuMs, freePort, stopAll, waitForHttp } from './processes.ts';
import { round, summarize } from './stats.ts';
import { ADMIN_TOKEN, configureTollgate, type RunningTollgate } from './tollgate.ts';
import { TOLLGATE_DIR } from './tollgate-dir.ts';

const args = new Map(
  process.argv.slice(2).map((arg) => {
    const [name, value] = arg.replace(/^--/, '').split('=');
    return [name ?? '', value ?? ''];
  }),
);
const SECONDS = Number(args.get('seconds') || 10);
const CONNECTIONS = Number(args.get('connections') || 64);
const ROUNDS = Number(args.get('rounds') || 3);
const MASTER_KEY = 'b'.repeat(64);

interface Row {
  setup: string;
  workers: string;
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  /** CPU time Tollgate's processes (primary and workers) and the load generator used per second. */
  tollgateCores: number;
  loadCores: number;
}

/** Starts `tollgate serve [--workers N]` on `database`, waits until every worker answers. */
async function startTollgate(database: BenchDatabase, workers: number, redisUrl: string | undefined) {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    [path.join(TOLLGATE_DIR, 'bin/tollgate.js'), 'serve', '--workers', String(workers)],
    {
      cwd: TOLLGATE_DIR,
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        ...database.env,
        ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
        TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN,
        TOLLGATE_LOG_LEVEL: 'warn',
        TOLLGATE_MASTER_KEY: MASTER_KEY,
        NODE_ENV: 'production',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // However this run ends, the primary (and with it its workers) does not outlive it.
  const orphan = () => child.kill('SIGKILL');
  process.once('exit', orphan);
  await waitForHttp(`${url}/health`, 120_000, () => child.exitCode === null).catch((error) => {
    orphan();
    throw error;
  });
  // The primary starts the first worker alone, then the others: wait until all answer.
  const pids = new Set<number>();
  const deadline = Date.now() + 60_000;
  while (workers > 1 && pids.size < workers && Date.now() < deadline) {
    const health = (await fetch(`${url}/health`, { headers: { connection: 'close' } }).then((r) => r.json())) as {
      worker?: number;
    };
    if (health.worker) pids.add(health.worker);
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
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    process.off('exit', orphan);
  };
  return { url, admin, stop, pids: [child.pid as number, ...pids] };
}

/** Rounds of every point, interleaved so that what the machine does meanwhile falls on all alike; the median is kept. */
async function measure(setup: string, redisUrl: string | undefined, providerUrl: string): Promise<Row[]> {
  // 1: `tollgate serve` as one process (what --workers 1 runs); then 2..N worker processes.
  const counts = Array.from({ length: Math.max(2, availableParallelism()) }, (_, i) => i + 1);
  const rounds = new Map<number, Row[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (const workers of counts) {
      const row = await point(setup, workers, redisUrl, providerUrl);
      rounds.set(workers, [...(rounds.get(workers) ?? []), row]);
    }
  }
  return counts.map((workers) => {
    const points = (rounds.get(workers) ?? []).sort((a, b) => a.rps - b.rps);
    return points[Math.floor((points.length - 1) / 2)] as Row;
  });
}

async function point(setup: string, workers: number, redisUrl: string | undefined, providerUrl: string): Promise<Row> {
  const database = await freshDatabase();
  const tollgate = await startTollgate(database, workers, redisUrl);
  try {
    // configureTollgate only calls the admin API.
    const key = await configureTollgate(tollgate as unknown as RunningTollgate, providerUrl);
    const target: Target = {
      name: 'tollgate',
      origin: tollgate.url,
      path: '/v1/chat/completions',
      headers: { authorization: `Bearer ${key}` },
    };
    const body = chatBody();
    await throughput(target, body, CONNECTIONS, 3); // warm-up (JIT, key cache, leases)
    const cpu = () => tollgate.pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
    const cpuBefore = cpu();
    const loadBefore = process.cpuUsage();
    const result = await throughput(target, body, CONNECTIONS, SECONDS);
    const load = process.cpuUsage(loadBefore);
    const tollgateCores = (cpu() - cpuBefore) / 1000 / result.seconds;
    const latency = summarize(result.samples);
    const row: Row = {
      setup,
      workers: workers === 1 ? 'one process' : `--workers ${workers}`,
      rps: Math.round(result.rps),
      p50ms: round(latency.p50 / 1000, 2),
      p99ms: round(latency.p99 / 1000, 2),
      errors: result.non2xx + result.errors,
      tollgateCores: round(tollgateCores, 2),
      loadCores: round((load.user + load.system) / 1e6 / result.seconds, 2),
    };
    process.stdout.write(
      `  ${setup}, ${row.workers}: ${row.rps} req/s, p50 ${row.p50ms} ms, Tollgate ${row.tollgateCores} cores, load ${row.loadCores}\n`,
    );
    return row;
  } finally {
    await tollgate.stop();
    await database.drop();
  }
}

async function main(): Promise<void> {
  const provider = await startProvider();
  const rows: Row[] = [];
  try {
    const server = process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL;
    const redisUrl = process.env.REDIS_URL || process.env.TEST_REDIS_URL;
    delete process.env.BENCH_DATABASE_URL;
    rows.push(...(await measure('embedded database', undefined, provider.url)));
    if (server) {
      process.env.BENCH_DATABASE_URL = server;
      // Without Redis the primary keeps the counters for its workers, as on the embedded database.
      rows.push(...(await measure('PostgreSQL alone', undefined, provider.url)));
      if (redisUrl) rows.push(...(await measure('PostgreSQL + Redis', redisUrl, provider.url)));
    }
  } finally {
    await provider.stop();
    await stopAll();
  }
  const base = new Map(rows.filter((row) => row.workers === 'one process').map((row) => [row.setup, row.rps]));
  const lines = [
    `${availableParallelism()} cores, ${CONNECTIONS} connections, ${SECONDS} s per point, median of ${ROUNDS} rounds, nothing pinned`,
    '',
    '| database | processes | requests/s | vs one process | p50 (ms) | p99 (ms) | errors | Tollgate CPU (cores) | Tollgate CPU per request (ms) | load generator CPU (cores) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map(
      (row) =>
        `| ${row.setup} | ${row.workers} | ${row.rps} | ×${(row.rps / (base.get(row.setup) ?? row.rps)).toFixed(2)} | ${row.p50ms} | ${row.p99ms} | ${row.errors} | ${row.tollgateCores} | ${((row.tollgateCores * 1000) / row.rps).toFixed(2)} | ${row.loadCores} |`,
    ),
  ];
  process.stdout.write(`\n${lines.join('\n')}\n`);
}

await main();
