import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import {
  admin,
  chat,
  failedStart,
  load,
  metric,
  PROVIDER_SECRET,
  publish,
  sleep,
  spawnTollgate,
  storedRecords,
  TcpProxy,
} from './support.ts';

/**
 * PostgreSQL unreachable under load, made so by a TCP proxy between Tollgate and the shared
 * test server (which keeps running): known keys are still served, usage records go to the
 * spool in the data directory, and every one of them is in the database exactly once after
 * it returns — whether the process lived through the outage or was killed during it.
 */
const pg = backends().find((backend) => backend.name === 'postgres');
describe.skipIf(!pg)('PostgreSQL unreachable under load', () => {
  const provider = new FakeOpenAI(PROVIDER_SECRET);
  const proxies: TcpProxy[] = [];
  const outputs: Array<() => string> = [];
  afterEach((context) => {
    if (context.task.result?.state === 'fail') for (const output of outputs) console.log(output().slice(-8000));
    outputs.length = 0;
  });
  afterAll(async () => {
    await provider.close();
    for (const proxy of proxies) await proxy.close();
  });

  async function setUp() {
    if (!provider.url) await provider.start();
    const database = await (pg as NonNullable<typeof pg>).prepare();
    const target = new URL(database.databaseUrl as string);
    const proxy = await new TcpProxy(target.hostname, Number(target.port || 5432)).start();
    proxies.push(proxy);
    const env = { DATABASE_URL: proxy.through(database.databaseUrl as string), TOLLGATE_DATA_DIR: database.dataDir };
    const tollgate = await spawnTollgate(env);
    outputs.push(tollgate.output);
    const apiKey = await publish(tollgate.url, { 'gpt-4o': provider.url });
    // The key is known to this instance from here on.
    expect((await chat(tollgate.url, apiKey, 'gpt-4o')).status).toBe(200);
    return { database, proxy, env, tollgate, apiKey };
  }

  async function ask(url: string, key: string): Promise<{ status: number; code?: string }> {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }),
    });
    const body = (await response.json()) as { error?: { code?: string } };
    return response.status === 200 ? { status: 200 } : { status: response.status, code: body.error?.code };
  }

  async function until(condition: () => Promise<boolean>, ms: number): Promise<number> {
    const started = Date.now();
    while (!(await condition())) {
      if (Date.now() - started > ms) throw new Error('timed out');
      await sleep(100);
    }
    return Date.now() - started;
  }

  it('keeps serving known keys, spools the usage records, and writes each once when the database returns', async () => {
    const { database, proxy, tollgate, apiKey } = await setUp();
    // A key this instance has never seen: during the outage it cannot be looked up.
    const unseen = (await admin(tollgate.url, 'POST', '/api/v1/keys', { name: 'unseen' })).key as string;
    let next = 0;
    const clients = load(20, () => chat(tollgate.url, apiKey, 'gpt-4o', next++ % 4 === 0));
    await sleep(1000);
    const before = clients.outcomes.length;
    proxy.cut();
    await sleep(3000);
    const duringOutage = clients.outcomes.length - before;
    const spooled = await metric(tollgate.url, 'tollgate_usage_spooled_records');
    const unreachable = await metric(tollgate.url, 'tollgate_usage_database_unreachable');
    const failedDuring = clients.outcomes.filter((outcome) => outcome.status !== 200);
    const unseenDuring = await ask(tollgate.url, unseen);
    proxy.restore();
    const drainedIn = await until(
      async () =>
        (await metric(tollgate.url, 'tollgate_usage_spooled_records')) === 0 &&
        (await metric(tollgate.url, 'tollgate_usage_database_unreachable')) === 0,
      60_000,
    );
    await sleep(500);
    const unseenAfter = await ask(tollgate.url, unseen);
    await clients.stop();
    tollgate.child.kill('SIGTERM');
    expect((await tollgate.exited).code).toBe(0);
    expect(unseenDuring).toEqual({ status: 503, code: 'database_unavailable' });
    expect(unseenAfter.status).toBe(200);

    const served = clients.outcomes.filter((outcome) => outcome.status === 200);
    const records = await storedRecords(database);
    const ids = new Set(records.map((record) => record.request_id));
    const missing = served.filter((outcome) => !ids.has(outcome.id ?? ''));
    console.log(
      `database cut for 3 s: ${duringOutage} requests served meanwhile, ${failedDuring.length} failed; ` +
        `${spooled} records in the spool at the end of the outage (unreachable=${unreachable}); ` +
        `spool written back ${drainedIn} ms after the database returned; an unseen key got ${unseenDuring.status} ${unseenDuring.code} meanwhile; ` +
        `${served.length} served in all, ${records.length} records (${ids.size} distinct), ${missing.length} missing`,
    );
    expect(failedDuring).toEqual([]);
    expect(duringOutage).toBeGreaterThan(50);
    expect(unreachable).toBe(1);
    expect(spooled).toBeGreaterThan(0);
    expect(missing).toEqual([]);
    // +2: the warm-up request, and the unseen key's once the database was back.
    expect(records.length).toBe(served.length + 2);
    expect(ids.size).toBe(records.length);
  }, 120_000);

  it('after a kill -9 during the outage, refuses to start without the database, then writes the spool once it is back', async () => {
    const { database, proxy, env, tollgate, apiKey } = await setUp();
    proxy.cut();
    const clients = load(20, () => chat(tollgate.url, apiKey, 'gpt-4o'));
    await sleep(2000);
    await clients.stop();
    // The spool is appended to at every tick (250 ms): wait for one, then kill.
    await sleep(1000);
    const spooled = await metric(tollgate.url, 'tollgate_usage_spooled_records');
    tollgate.child.kill('SIGKILL');
    await tollgate.exited;

    const refused = await failedStart(env);
    expect(refused.code).toBe(1);
    expect(refused.output).toContain('tollgate: cannot reach the database at 127.0.0.1:');
    expect(refused.output).toContain('Tollgate does not start without its database');

    proxy.restore();
    const restarted = await spawnTollgate(env);
    await until(async () => (await metric(restarted.url, 'tollgate_usage_spooled_records')) === 0, 30_000);
    restarted.child.kill('SIGTERM');
    expect((await restarted.exited).code).toBe(0);

    const served = clients.outcomes.filter((outcome) => outcome.status === 200);
    const records = await storedRecords(database);
    const ids = new Set(records.map((record) => record.request_id));
    const missing = served.filter((outcome) => !ids.has(outcome.id ?? ''));
    console.log(
      `killed during the outage: ${served.length} served while the database was cut, ${spooled} spooled at the kill; ` +
        `a start without the database exited ${refused.code}; after it returned, ${records.length} records ` +
        `(${ids.size} distinct), ${missing.length} missing`,
    );
    expect(served.length).toBeGreaterThan(50);
    expect(clients.outcomes.filter((outcome) => outcome.status !== 200)).toEqual([]);
    expect(missing).toEqual([]);
    expect(records.length).toBe(served.length + 1);
    expect(ids.size).toBe(records.length);
  }, 120_000);
});
