/**
 * `npm run bench:multi`: what sharing counters through Redis costs, and whether limits hold
 * across instances. Needs a PostgreSQL server (BENCH_DATABASE_URL, or TEST_DATABASE_URL) and a
 * Redis (BENCH_REDIS_URL, or TEST_REDIS_URL, or a `redis-server` it starts itself).
 *
 * 1. One instance with REDIS_URL against one instance without it (PostgreSQL alone, counters in
 *    memory), the production benchmark key (spend limits on key, user, project and organisation,
 *    IAM rules, rate limits), on the same pinned core: added latency at c=1 and throughput at
 *    c=64, alternating rounds. Target: within 0.1 ms p50 and 10% throughput.
 * 2. Two instances with Redis sharing the gateway core: throughput together.
 * 3. Three instances: 300 concurrent calls spread over them against an all-time limit, a
 *    recurring limit and a requests-per-minute limit, repeated (20 times; 2 with --smoke):
 *    never once over, and how much of each budget could be used.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { GATEWAY_CORE, LOAD_CORE, type Provider, startProvider } from './candidates.ts';
import { type BenchDatabase, freshDatabase } from './database.ts';
import { chatBody, sequentialLatency, type Target, throughput } from './measure.ts';
import { freePort, pinSelf, ROOT, stopAll } from './processes.ts';
import { median, round, summarize } from './stats.ts';
import { configureTollgate, type RunningTollgate, startTollgate } from './tollgate.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);
const smoke = process.argv.includes('--smoke') || process.env.BENCH_MODE === 'smoke';
const ROUNDS = smoke ? 1 : 3;
const LATENCY_REQUESTS = smoke ? 300 : 2000;
const THROUGHPUT_SECONDS = smoke ? 2 : 10;
const LIMIT_LOOPS = smoke ? 2 : 20;
/** The bench provider answers 50 completion tokens; at $200 per million a call costs $0.01. */
const CALL_USD = 0.01;

async function redisUrl(): Promise<{ url: string; stop: () => void }> {
  const given = process.env.BENCH_REDIS_URL?.trim() || process.env.TEST_REDIS_URL?.trim();
  if (given) return { url: given, stop: () => {} };
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'tollgate-bench-redis-'));
  const child = spawn('redis-server', ['--port', String(port), '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  return { url: `redis://127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

function target(tollgate: RunningTollgate, key: string, name: string): Target {
  return {
    name,
    origin: tollgate.url,
    path: '/v1/chat/completions',
    headers: { authorization: `Bearer ${key}` },
    pid: tollgate.pid,
  };
}

/** Latency and throughput of one instance with Redis and one without, alternating rounds. */
async function costOfRedis(provider: Provider, redis: string) {
  const database = await freshDatabase();
  const alone = await startTollgate(GATEWAY_CORE, { database });
  const key = await configureTollgate(alone, provider.url);
  const targets = [target(alone, key, 'alone')];
  // Same database and key; the instance without Redis keeps its counters under the lock, so
  // the one with Redis runs while it is stopped, and the two take turns.
  await alone.stop();
  const body = chatBody();
  const latency: Record<string, number[]> = { alone: [], redis: [] };
  const rps: Record<string, number[]> = { alone: [], redis: [] };
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? ['alone', 'redis'] : ['redis', 'alone']) {
      const instance = await startTollgate(GATEWAY_CORE, {
        database,
        env: mode === 'redis' ? { REDIS_URL: redis } : {},
      });
      const t = { ...targets[0], origin: instance.url, pid: instance.pid, name: mode } as Target;
      await sequentialLatency(t, body, 200);
      await throughput(t, body, 64, 1);
      const measured = await sequentialLatency(t, body, LATENCY_REQUESTS);
      latency[mode]?.push(summarize(measured.samples).p50, summarize(measured.samples).p99);
      const result = await throughput(t, body, 64, THROUGHPUT_SECONDS);
      rps[mode]?.push(result.rps);
      log(
        `  round ${round + 1} ${mode}: p50 ${round3(summarize(measured.samples).p50 / 1000)} ms, ${result.rps.toFixed(0)} req/s`,
      );
      await instance.stop();
    }
  }
  await database.drop();
  // Rounds alternate the two, so the difference within each round is what Redis adds with the
  // machine's mood of that round taken out; the median of those is the figure compared with the target.
  const pairedP50 = median(
    (latency.redis ?? []).filter((_, i) => i % 2 === 0).map((value, i) => value - (latency.alone?.[2 * i] ?? 0)),
  );
  const pairedRps = median((rps.redis ?? []).map((value, i) => value / (rps.alone?.[i] ?? 1)));
  const p50 = (mode: string) => median((latency[mode] ?? []).filter((_, i) => i % 2 === 0)) / 1000;
  const p99 = (mode: string) => median((latency[mode] ?? []).filter((_, i) => i % 2 === 1)) / 1000;
  return {
    alone: { p50Ms: round(p50('alone')), p99Ms: round(p99('alone')), rps: round(median(rps.alone ?? []), 0) },
    redis: { p50Ms: round(p50('redis')), p99Ms: round(p99('redis')), rps: round(median(rps.redis ?? []), 0) },
    addedP50Ms: round(pairedP50 / 1000),
    throughputRatio: round(pairedRps),
  };
}
const round3 = (value: number) => round(value, 3);

/** Two instances with Redis on the gateway core, load split between them. */
async function twoInstances(provider: Provider, redis: string) {
  const database = await freshDatabase();
  const first = await startTollgate(GATEWAY_CORE, { database, env: { REDIS_URL: redis } });
  const key = await configureTollgate(first, provider.url);
  const second = await startTollgate(GATEWAY_CORE, { database, env: { REDIS_URL: redis } });
  const body = chatBody();
  const results = await Promise.all(
    [first, second].map((instance, i) =>
      throughput(target(instance, key, `instance ${i + 1}`), body, 32, THROUGHPUT_SECONDS),
    ),
  );
  await first.stop();
  await second.stop();
  await database.drop();
  return {
    rps: round(
      results.reduce((sum, result) => sum + result.rps, 0),
      0,
    ),
    non2xx: results.reduce((s, r) => s + r.non2xx, 0),
  };
}

async function call(url: string, key: string): Promise<number> {
  const response = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'exact', messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 50 }),
  });
  await response.arrayBuffer();
  return response.status;
}

/** Three instances, 300 concurrent calls per trial against each kind of limit, LIMIT_LOOPS trials. */
async function limitsHold(provider: Provider, redis: string) {
  const database: BenchDatabase = await freshDatabase();
  const instances: RunningTollgate[] = [];
  for (let i = 0; i < 3; i++) {
    instances.push(await startTollgate(i === 2 ? LOAD_CORE : GATEWAY_CORE, { database, env: { REDIS_URL: redis } }));
  }
  const [first] = instances as [RunningTollgate];
  await configureTollgate(first, provider.url);
  await first.admin('POST', '/api/v1/models', {
    name: 'exact',
    targets: [{ credential: 'bench-provider', upstreamModel: 'bench-upstream' }],
    inputPrice: 0,
    outputPrice: 200,
  });
  const sql = postgres(database.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
  const kinds = [
    { kind: 'all-time $1.50', body: { spendLimit: { allTimeUsd: 1.5 } }, limit: 1.5 },
    { kind: 'recurring $1.50/day', body: { spendLimit: { recurring: { usd: 1.5, window: '1d' } } }, limit: 1.5 },
    { kind: '60 requests/min', body: { rateLimits: { rpm: 60 } }, limit: 60 },
  ];
  const rows = [];
  for (const { kind, body, limit } of kinds) {
    let worst = 0;
    let leastUsed = Number.POSITIVE_INFINITY;
    let over = 0;
    for (let trial = 0; trial < LIMIT_LOOPS; trial++) {
      const name = `trial-${kind.replace(/\W+/g, '-')}-${trial}`;
      const created = await first.admin('POST', '/api/v1/keys', { name, ...body });
      const statuses = await Promise.all(
        Array.from({ length: 300 }, (_, i) => call(instances[i % 3]?.url as string, created.key)),
      );
      const served = statuses.filter((status) => status === 200).length;
      await new Promise((resolve) => setTimeout(resolve, 1200));
      const [row] = await sql<{ usd: number; n: number }[]>`
        select coalesce(sum(cost_usd), 0)::float8 as usd, count(*) filter (where status = 200)::int as n
        from usage_records where key_name = ${name}`;
      const used = kind.includes('requests') ? served : (row?.usd ?? served * CALL_USD);
      worst = Math.max(worst, used / limit);
      leastUsed = Math.min(leastUsed, used / limit);
      if (used > limit + 1e-9) over++;
    }
    rows.push({ kind, trials: LIMIT_LOOPS, over, maxOfLimit: round(worst, 4), minOfLimit: round(leastUsed, 4) });
    log(
      `  ${kind}: ${LIMIT_LOOPS} trials, over the limit ${over} times, used ${round(leastUsed * 100, 1)}–${round(worst * 100, 1)}% of it`,
    );
  }
  await sql.end();
  for (const instance of instances) await instance.stop();
  await database.drop();
  return rows;
}

async function main(): Promise<number> {
  pinSelf(LOAD_CORE);
  if (!process.env.BENCH_DATABASE_URL && process.env.TEST_DATABASE_URL) {
    process.env.BENCH_DATABASE_URL = process.env.TEST_DATABASE_URL;
  }
  if (!process.env.BENCH_DATABASE_URL) {
    log('bench:multi needs a PostgreSQL server: set BENCH_DATABASE_URL (a user that may CREATE DATABASE)');
    return 2;
  }
  const redis = await redisUrl();
  const provider = await startProvider();
  try {
    log(`multi-instance bench (${smoke ? 'smoke' : 'full'})`);
    log('one instance with Redis against one without');
    const cost = await costOfRedis(provider, redis.url);
    log('two instances with Redis on one core');
    const two = await twoInstances(provider, redis.url);
    log('limits across three instances');
    const limits = await limitsHold(provider, redis.url);
    const addedP50 = cost.addedP50Ms;
    const ratio = cost.throughputRatio;
    const text = [
      '| one instance | p50 ms | p99 ms | req/s at c=64 |',
      '| --- | --- | --- | --- |',
      `| alone (PostgreSQL, counters in memory) | ${cost.alone.p50Ms} | ${cost.alone.p99Ms} | ${cost.alone.rps} |`,
      `| with Redis (shared counters, leases) | ${cost.redis.p50Ms} | ${cost.redis.p99Ms} | ${cost.redis.rps} |`,
      '',
      `Redis adds ${addedP50} ms at p50 (target ≤ 0.1) and serves ${round(ratio * 100, 1)}% of the throughput (target ≥ 90%): medians of the differences and ratios within each round (rounds alternate the two).`,
      `Two instances with Redis sharing the gateway core: ${two.rps} req/s together (${two.non2xx} non-2xx).`,
      '',
      '| limit, 300 concurrent calls over 3 instances | trials | over the limit | most used | least used |',
      '| --- | --- | --- | --- | --- |',
      ...limits.map(
        (row) =>
          `| ${row.kind} | ${row.trials} | ${row.over} | ${round(row.maxOfLimit * 100, 1)}% | ${round(row.minOfLimit * 100, 1)}% |`,
      ),
    ].join('\n');
    log(`\n${text}`);
    const dir = path.join(ROOT, 'bench/results');
    mkdirSync(dir, { recursive: true });
    const stamp = new Date().toISOString().replaceAll(':', '-').replace(/\..+$/, '');
    writeFileSync(path.join(dir, `multi-${stamp}.json`), `${JSON.stringify({ smoke, cost, two, limits }, null, 2)}\n`);
    writeFileSync(path.join(dir, `multi-${stamp}.md`), `${text}\n`);
    log(`results: bench/results/multi-${stamp}.json`);
    return limits.some((row) => row.over > 0) || two.non2xx > 0 ? 1 : 0;
  } finally {
    await provider.stop();
    redis.stop();
  }
}

main()
  .then(async (code) => {
    await stopAll();
    process.exit(code);
  })
  .catch(async (error) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
    await stopAll();
    process.exit(1);
  });
