import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import { chat, load, PROVIDER_SECRET, publish, sleep, spawnTollgate, storedRecords } from './support.ts';

const CLIENTS = 50;
const ROUNDS = 3;

/**
 * `kill -9` under load on PostgreSQL: what clients received is compared with what was
 * recorded. The usage writer flushes every 500 ms, so a record lost can only belong to a
 * response completed in the last second before the kill.
 */
const pg = backends().find((backend) => backend.name === 'postgres');
describe.skipIf(!pg)('kill -9 under load on PostgreSQL', () => {
  const provider = new FakeOpenAI(PROVIDER_SECRET);
  afterAll(() => provider.close());

  it(`loses at most the usage records of the last second before the kill (${CLIENTS} clients, ${ROUNDS} rounds)`, async () => {
    await provider.start();
    const figures: string[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const database = await (pg as NonNullable<typeof pg>).prepare();
      const tollgate = await spawnTollgate({
        DATABASE_URL: database.databaseUrl as string,
        TOLLGATE_DATA_DIR: database.dataDir,
      });
      const apiKey = await publish(tollgate.url, { 'gpt-4o': provider.url });
      // Every fifth client streams.
      let next = 0;
      const clients = load(CLIENTS, () => chat(tollgate.url, apiKey, 'gpt-4o', next++ % 5 === 0));
      // How long a response waits for its record, sampled while the load runs.
      const lag = sampleRecordLag(database.databaseUrl as string, clients.outcomes);
      await sleep(3000);
      const lags = await lag.stop();
      const killedAt = Date.now();
      tollgate.child.kill('SIGKILL');
      await tollgate.exited;
      await clients.stop();

      const completed = clients.outcomes.filter((outcome) => outcome.status === 200 && outcome.completedAt);
      const ids = new Set((await storedRecords(database)).map((record) => record.request_id));
      const lost = completed.filter((outcome) => !ids.has(outcome.id ?? ''));
      const lastSecond = completed.filter((outcome) => (outcome.completedAt ?? 0) >= killedAt - 1000);
      const oldestLost = Math.max(0, ...lost.map((outcome) => killedAt - (outcome.completedAt ?? killedAt)));
      const line =
        `round ${round}: served ${completed.length}, records ${ids.size}, lost ${lost.length} ` +
        `(completed in the last second: ${lastSecond.length}; oldest lost completed ${oldestLost} ms before the kill); ` +
        `record lag under load p50 ${percentile(lags, 0.5)} ms, p99 ${percentile(lags, 0.99)} ms, max ${Math.max(...lags)} ms (${lags.length} sampled)`;
      figures.push(line);
      console.log(`kill -9 ${line}`);

      expect(completed.length).toBeGreaterThan(100);
      expect(lost.length).toBeLessThanOrEqual(lastSecond.length);
      expect(oldestLost).toBeLessThanOrEqual(1000);
    }
  }, 180_000);
});

/**
 * Every 100 ms, looks in the database for the records of the responses completed since the
 * last look (up to 20 each time) and notes, once found, how long after its response each
 * appeared. Resolution: the 100 ms of the look.
 */
function sampleRecordLag(databaseUrl: string, outcomes: Array<{ id?: string; completedAt?: number }>) {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  const waiting = new Map<string, number>();
  const lags: number[] = [];
  let seen = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const fresh = outcomes.slice(seen).filter((outcome) => outcome.id && outcome.completedAt);
      seen = outcomes.length;
      for (const outcome of fresh.slice(0, 20)) waiting.set(outcome.id as string, outcome.completedAt as number);
      if (waiting.size > 0) {
        const found = await sql<{ request_id: string }[]>`
          select request_id from usage_records where request_id = any(${[...waiting.keys()]})`;
        const now = Date.now();
        for (const { request_id } of found) {
          lags.push(now - (waiting.get(request_id) ?? now));
          waiting.delete(request_id);
        }
      }
      await sleep(100);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      await sql.end();
      return lags.length > 0 ? lags : [0];
    },
  };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}
