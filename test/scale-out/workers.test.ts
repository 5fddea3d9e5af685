import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import postgres from 'postgres';
import { Client } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends, tempDir } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { publishMetered } from '../support/metered.ts';
import { exited } from '../support/processes.ts';
import { freePort, redisAvailable, sharedRedis } from '../support/redis.ts';
import { ADMIN_TOKEN, startTollgate } from '../support/tollgate.ts';

const SECRET = 'sk-workers-secret-000111222333';
const MASTER_KEY = 'cd'.repeat(32);

const postgresBackend = backends().find((backend) => backend.name === 'postgres');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Served {
  child: ChildProcess;
  url: string;
  dataDir: string;
  databaseUrl: string | undefined;
  output: () => string;
}

/** `tollgate serve --workers 2` as a real process; resolves once both workers answer /health. */
async function serveWorkers(env: Record<string, string>): Promise<Served> {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, ['bin/tollgate.js', 'serve', '--workers', '2'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while ((await workerPids(url, 6)).size < 2) {
    if (child.exitCode !== null) throw new Error(`tollgate exited early:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the workers did not all become healthy:\n${output}`);
    }
    await sleep(200);
  }
  return { child, url, dataDir: env.TOLLGATE_DATA_DIR ?? '', databaseUrl: env.DATABASE_URL, output: () => output };
}

/** The worker pid behind /health on a connection of its own (connections go round the workers). */
function healthPid(url: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const request = http.get(`${url}/health`, { agent: false, headers: { connection: 'close' } }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => {
        try {
          resolve(response.statusCode === 200 ? (JSON.parse(body).worker as number) : undefined);
        } catch {
          resolve(undefined);
        }
      });
    });
    // A connection handed to a worker just as it was killed goes unanswered.
    request.setTimeout(1000, () => request.destroy());
    request.on('error', () => resolve(undefined));
  });
}

async function workerPids(url: string, tries: number): Promise<Set<number>> {
  const pids = new Set<number>();
  for (let i = 0; i < tries; i++) {
    const pid = await healthPid(url);
    if (pid) pids.add(pid);
  }
  return pids;
}

/** One kept-alive connection per worker, keyed by the worker's pid. */
async function connectionsPerWorker(url: string): Promise<Map<number, Client>> {
  const pinned = new Map<number, Client>();
  for (let i = 0; i < 12 && pinned.size < 2; i++) {
    const client = new Client(url, { pipelining: 1, keepAliveTimeout: 60_000 });
    const pid = (await (await client.request({ method: 'GET', path: '/health' })).body.json()) as { worker: number };
    if (pinned.has(pid.worker)) await client.close();
    else pinned.set(pid.worker, client);
  }
  expect(pinned.size).toBe(2);
  return pinned;
}

async function send(client: Client, method: 'GET' | 'POST', path: string, authorization: string, body?: unknown) {
  const response = await client.request({
    method,
    path,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.body.text();
  return { status: response.statusCode, body: text ? JSON.parse(text) : undefined };
}

const chat = { model: 'metered', messages: [{ role: 'user', content: 'hello there' }], max_tokens: 10 };

async function admin(url: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json().catch(() => undefined)) as any };
}

/** A chat call on a fresh pooled connection (the global fetch pool spreads a burst over both workers). */
function ask(url: string, key: string, model = 'metered'): Promise<number> {
  return fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ ...chat, model }),
  }).then(
    async (response) => {
      await response.arrayBuffer();
      return response.status;
    },
    () => 0,
  );
}

async function requestsServed(client: Client): Promise<number> {
  const response = await client.request({ method: 'GET', path: '/metrics' });
  const text = await response.body.text();
  let served = 0;
  for (const match of text.matchAll(/^tollgate_requests_total\{[^}]*\} (\S+)$/gm)) served += Number(match[1]);
  return served;
}

const setups = [
  { name: 'the embedded database', enabled: true, postgres: false, redis: false },
  { name: 'PostgreSQL alone', enabled: Boolean(postgresBackend), postgres: true, redis: false },
  { name: 'PostgreSQL and Redis', enabled: Boolean(postgresBackend && redisAvailable), postgres: true, redis: true },
];

for (const setup of setups) {
  describe.skipIf(!setup.enabled)(`tollgate serve --workers 2 on ${setup.name}`, () => {
    const provider = new FakeOpenAI(SECRET);
    let redis: { url: string; close(): Promise<void> } | undefined;
    let served: Served;

    beforeAll(async () => {
      await provider.start();
      const env: Record<string, string> = {
        TOLLGATE_DATA_DIR: tempDir(),
        TOLLGATE_MASTER_KEY: MASTER_KEY,
        TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN,
        TOLLGATE_LOG_LEVEL: 'warn',
        // An idle kept-alive connection holds a stop until the grace ends: keep the wait short.
        TOLLGATE_SHUTDOWN_GRACE: '5',
      };
      if (setup.postgres) {
        const database = await (postgresBackend as NonNullable<typeof postgresBackend>).prepare();
        env.DATABASE_URL = database.databaseUrl as string;
      }
      if (setup.redis) {
        redis = await sharedRedis();
        env.REDIS_URL = redis.url;
      }
      served = await serveWorkers(env);
      await publishMetered((method, path, body) => admin(served.url, method, path, body), provider, {
        metered: 'gpt-4o',
        slow: 'slow-400',
      });
    }, 120_000);

    afterAll(async () => {
      if (served?.child.exitCode === null) {
        served.child.kill('SIGKILL');
        await exited(served.child);
      }
      await provider.close();
      await redis?.close();
    });

    async function keyWith(body: Record<string, unknown> = {}): Promise<{ key: string; id: string; name: string }> {
      const name = `key-${Math.random().toString(36).slice(2)}`;
      const created = await admin(served.url, 'POST', '/api/v1/keys', { name, ...body });
      expect(created.status).toBe(201);
      return { key: created.body.key, id: created.body.id, name };
    }

    async function recorded(keyId: string): Promise<{ requests: number; errors: number; costUsd: number }> {
      // Each worker writes its usage records within about a second of the answers.
      await sleep(1500);
      return (await admin(served.url, 'GET', `/api/v1/usage?key=${keyId}&limit=1`)).body.totals;
    }

    it('prints one banner and serves on both workers', async () => {
      // Each worker has the set-up link to print (no owner yet); the primary prints the first's.
      expect(served.output().match(/No owner yet/g) ?? []).toHaveLength(1);
      const pinned = await connectionsPerWorker(served.url);
      const before = await Promise.all([...pinned.values()].map(requestsServed));
      const { key } = await keyWith();
      await expect.poll(() => ask(served.url, key), { timeout: 5000 }).toBe(200);
      const statuses = await Promise.all(Array.from({ length: 60 }, () => ask(served.url, key)));
      expect(statuses.every((status) => status === 200)).toBe(true);
      const after = await Promise.all([...pinned.values()].map(requestsServed));
      // Each worker answered part of the burst.
      for (const [i, count] of after.entries()) expect(count).toBeGreaterThan(before[i] ?? 0);
      for (const client of pinned.values()) await client.close();
    }, 30_000);

    it('never admits past a spend limit across workers, and leaves at most 10% of it unused', async () => {
      const { key, id } = await keyWith({ spendLimit: { allTimeUsd: 1.5 } });
      const sent = provider.received.length;
      const statuses = await Promise.all(Array.from({ length: 300 }, () => ask(served.url, key)));
      const ok = statuses.filter((status) => status === 200).length;
      expect(statuses.filter((status) => status !== 200 && status !== 402)).toEqual([]);
      // What the workers admitted is what they let the provider spend: the output cap each call
      // carried upstream (near the end of a budget a call is capped to what is left). This fake
      // answers 10 tokens whatever the cap, so its bill is not the measure; a provider's is.
      const admitted = provider.received
        .slice(sent)
        .reduce((sum, call) => sum + Number(call.body.max_tokens ?? call.body.max_completion_tokens) * 0.001, 0);
      expect(provider.received.length - sent).toBe(ok);
      expect(admitted).toBeLessThanOrEqual(1.5 + 1e-9);
      expect(admitted).toBeGreaterThanOrEqual(0.9 * 1.5);
      const totals = await recorded(id);
      expect(totals.requests - totals.errors).toBe(ok);
    }, 60_000);

    it('refuses a key revoked on one worker on the other within a second', async () => {
      const pinned = [...(await connectionsPerWorker(served.url)).values()];
      const [a, b] = pinned as [Client, Client];
      const times: number[] = [];
      for (let trial = 0; trial < 5; trial++) {
        const { key, id } = await keyWith();
        expect((await send(b, 'POST', '/v1/chat/completions', `Bearer ${key}`, chat)).status).toBe(200);
        const revoked = await send(a, 'POST', `/api/v1/keys/${id}/revoke`, `Bearer ${ADMIN_TOKEN}`);
        expect(revoked.status).toBe(200);
        const start = performance.now();
        let status = 200;
        while (status === 200 && performance.now() - start < 3000) {
          status = (await send(b, 'POST', '/v1/chat/completions', `Bearer ${key}`, chat)).status;
        }
        expect(status).toBe(401);
        times.push(performance.now() - start);
      }
      times.sort((x, y) => x - y);
      process.stdout.write(
        `workers on ${setup.name}: revoke reached the other worker in median ${times[2]?.toFixed(1)} ms, max ${times[4]?.toFixed(1)} ms\n`,
      );
      expect(times[4]).toBeLessThan(1000);
      for (const client of pinned) await client.close();
    }, 60_000);

    it('replaces a worker that was killed', async () => {
      const before = await workerPids(served.url, 8);
      expect(before.size).toBe(2);
      const [victim] = before;
      process.kill(victim as number, 'SIGKILL');
      const deadline = Date.now() + 15_000;
      let now = new Set<number>();
      while (Date.now() < deadline) {
        now = await workerPids(served.url, 6);
        if (now.size === 2 && !now.has(victim as number)) break;
        await sleep(200);
      }
      expect(now.size).toBe(2);
      expect(now.has(victim as number)).toBe(false);
      expect(served.output()).toMatch(/a worker stopped unexpectedly/);
      const { key } = await keyWith();
      await expect.poll(() => ask(served.url, key), { timeout: 5000 }).toBe(200);
    }, 30_000);

    it('stops on SIGTERM once both workers have finished their requests, with every usage record written', async () => {
      const { key, id } = await keyWith();
      await expect.poll(() => ask(served.url, key), { timeout: 5000 }).toBe(200);
      const sent = provider.received.length;
      const inFlight = Promise.all(Array.from({ length: 40 }, () => ask(served.url, key, 'slow')));
      // SIGTERM once all 40 are with the provider (in flight), not before they reach a worker.
      await expect.poll(() => provider.received.length - sent, { interval: 10, timeout: 10_000 }).toBe(40);
      served.child.kill('SIGTERM');
      const statuses = await inFlight;
      expect(await exited(served.child)).toBe(0);
      const ok = statuses.filter((status) => status === 200).length;
      expect(ok).toBe(40);
      // Read the records back with the process gone: from PostgreSQL, or the data directory.
      let written: number;
      if (served.databaseUrl) {
        const sql = postgres(served.databaseUrl, { max: 1, onnotice: () => {} });
        const [row] = await sql<{ n: number }[]>`
          select count(*)::int as n from usage_records where key_id = ${id} and status = 200`;
        written = row?.n ?? -1;
        await sql.end();
      } else {
        const alone = await startTollgate({ dataDir: served.dataDir }, { TOLLGATE_MASTER_KEY: MASTER_KEY });
        const totals = (await alone.admin('GET', `/api/v1/usage?key=${id}&limit=1`)).body.totals;
        written = totals.requests - totals.errors;
        await alone.close();
      }
      // The 40 slow calls and the one that checked the key was known.
      expect(written).toBe(ok + 1);
    }, 60_000);
  });
}

describe('tollgate serve --workers that cannot start', () => {
  it('stops with exit code 1 and says why, instead of waiting or restarting forever', async () => {
    const taken = http.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    let output = '';
    const child = spawn(process.execPath, ['bin/tollgate.js', 'serve', '--workers', '2'], {
      env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', TOLLGATE_DATA_DIR: tempDir() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk) => (output += chunk));
    child.stderr?.on('data', (chunk) => (output += chunk));
    try {
      expect(await exited(child)).toBe(1);
      expect(output).toMatch(/EADDRINUSE/);
      expect(output).toMatch(/a worker failed to start; stopping/);
    } finally {
      child.kill('SIGKILL');
      taken.close();
    }
  }, 60_000);
});

describe('tollgate serve --workers whose primary is killed', () => {
  it('has its workers finish their requests, keep their usage records and stop, rather than serve on without it', async () => {
    const provider = await new FakeOpenAI(SECRET).start();
    const served = await serveWorkers({
      TOLLGATE_DATA_DIR: tempDir(),
      TOLLGATE_MASTER_KEY: MASTER_KEY,
      TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN,
      TOLLGATE_SHUTDOWN_GRACE: '5',
    });
    try {
      await publishMetered((method, path, body) => admin(served.url, method, path, body), provider, {
        slow: 'slow-400',
      });
      const created = (await admin(served.url, 'POST', '/api/v1/keys', { name: 'orphan' })).body;
      const key = created.key as string;
      await expect.poll(() => ask(served.url, key, 'slow'), { timeout: 5000 }).toBe(200);
      const pids = await workerPids(served.url, 8);
      expect(pids.size).toBe(2);
      const inFlight = Promise.all(Array.from({ length: 10 }, () => ask(served.url, key, 'slow')));
      await sleep(150);
      served.child.kill('SIGKILL');
      expect(await inFlight).toEqual(Array(10).fill(200));
      const alive = (pid: number) => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      await expect.poll(() => [...pids].filter(alive).length, { timeout: 15_000, interval: 200 }).toBe(0);
      // The database went with the primary: the workers spooled their usage records to the data
      // directory, and the next start writes them: the 10 calls and the one that found the key.
      const keyId = created.id as string;
      const next = await startTollgate({ dataDir: served.dataDir }, { TOLLGATE_MASTER_KEY: MASTER_KEY });
      try {
        const written = async () => {
          const totals = (await next.admin('GET', `/api/v1/usage?key=${keyId}&limit=1`)).body.totals;
          return totals.requests - totals.errors;
        };
        await expect.poll(written, { timeout: 10_000, interval: 250 }).toBe(11);
      } finally {
        await next.close();
      }
    } finally {
      served.child.kill('SIGKILL');
      await provider.close();
    }
  }, 90_000);
});
