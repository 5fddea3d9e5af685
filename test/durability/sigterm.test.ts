import { afterAll, describe, expect, it } from 'vitest';
import { backends } from '../support/backends.ts';
import { FakeOpenAI } from '../support/fake-openai.ts';
import {
  chat,
  connection,
  httpRequest,
  load,
  type Outcome,
  PROVIDER_SECRET,
  publish,
  refused,
  sleep,
  spawnTollgate,
  storedRecords,
} from './support.ts';

const GRACE_S = 3;

/**
 * SIGTERM under load, on a real `tollgate serve` process: `/health` turns 503 and new
 * connections are refused at once; requests in flight, streams included, finish within the
 * grace; streams still running at its end are cut and billed; every usage record is written
 * before the process exits.
 */
describe.each(backends())('SIGTERM under load on $name', (backend) => {
  // Three providers: one answers at once, one streams for ~1.2 s, one for ~9 s (past the grace).
  const quick = new FakeOpenAI(PROVIDER_SECRET);
  const steady = new FakeOpenAI(PROVIDER_SECRET);
  const endless = new FakeOpenAI(PROVIDER_SECRET);
  afterAll(async () => {
    await Promise.all([quick.close(), steady.close(), endless.close()]);
  });

  it('drains: 503 and refused connections at once, streams finish within the grace or are cut and billed, nothing unrecorded', async () => {
    await Promise.all([quick.start(), steady.start(), endless.start()]);
    steady.chunkDelayMs = 200;
    endless.chunkDelayMs = 1500;
    const database = await backend.prepare();
    const tollgate = await spawnTollgate({
      TOLLGATE_DATA_DIR: database.dataDir,
      ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
      TOLLGATE_SHUTDOWN_GRACE: String(GRACE_S),
    });
    try {
      const apiKey = await publish(tollgate.url, { quick: quick.url, steady: steady.url, endless: endless.url });
      const auth = { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' };
      const streamBody = (model: string) =>
        JSON.stringify({ model, messages: [{ role: 'user', content: 'one two three' }], stream: true });

      // Streams that will outlive the grace: each has sent "Hello" (at 1.5 s) before SIGTERM.
      const longStreams = Array.from({ length: 3 }, () => timed(chat(tollgate.url, apiKey, 'endless', true)));
      const clients = load(30, () => chat(tollgate.url, apiKey, 'quick'));
      await sleep(1300);
      // Streams in flight at SIGTERM that end ~1 s after it, within the grace.
      const shortStreams = Array.from({ length: 5 }, () => timed(chat(tollgate.url, apiKey, 'steady', true)));
      // A keep-alive connection busy with a stream: a /health check sent on it after SIGTERM is
      // answered during the drain.
      const busy = connection(tollgate.url);
      busy.send(httpRequest(tollgate.url, 'POST', '/v1/chat/completions', auth, streamBody('steady')));
      while (!busy.received().includes('data: ')) await sleep(10);

      const stoppedAt = Date.now();
      tollgate.child.kill('SIGTERM');
      await sleep(50);
      busy.send(httpRequest(tollgate.url, 'GET', '/health', {}));
      let refusedAfterMs: number | undefined;
      while (Date.now() - stoppedAt < 2000) {
        if (await refused(tollgate.url)) {
          refusedAfterMs = Date.now() - stoppedAt;
          break;
        }
        await sleep(10);
      }
      const [exit, longs, shorts, piped] = await Promise.all([
        tollgate.exited,
        Promise.all(longStreams),
        Promise.all(shortStreams),
        busy.closed,
      ]);
      await clients.stop();

      const served = clients.outcomes.filter((outcome) => outcome.status === 200);
      const after = clients.outcomes.filter((outcome) => outcome.status !== 200);
      const records = await storedRecords(database);
      const byId = new Map(records.map((record) => [record.request_id, record]));
      const cutAtMs = longs.map(({ endedAt }) => endedAt - stoppedAt);
      console.log(
        `SIGTERM on ${backend.name}: ${served.length} quick requests served, ${after.length} clients turned away ` +
          `(${[...new Set(after.map((o) => o.status || o.error?.slice(0, 40)))].join(', ')}); new connections refused ` +
          `after ${refusedAfterMs} ms; ${shorts.filter((s) => s.outcome.completedAt).length}/${shorts.length} short streams ` +
          `finished; ${longs.length} long streams cut after ${cutAtMs.join(', ')} ms (grace ${GRACE_S} s); exit ${exit.code} ` +
          `after ${exit.at - stoppedAt} ms; ${records.length} usage records`,
      );

      expect(refusedAfterMs).toBeDefined();
      expect(refusedAfterMs).toBeLessThan(2000);
      // The /health check on the busy connection: the stream before it finished, then 503 and the connection closed.
      expect(piped).toMatch(/^HTTP\/1\.1 200 /);
      expect(piped).toContain('data: [DONE]');
      expect(piped).toMatch(/HTTP\/1\.1 503 [^\r]*\r\n/);
      expect(piped.slice(piped.lastIndexOf('HTTP/1.1 503'))).toMatch(/connection: close/i);

      for (const { outcome } of shorts) {
        expect(outcome.status).toBe(200);
        expect(outcome.error).toBeUndefined();
      }
      for (const { outcome, endedAt } of longs) {
        // The head came (200), the body never ended: cut mid-stream.
        expect(outcome.status).toBe(200);
        expect(outcome.completedAt).toBeUndefined();
        expect(outcome.error).toBeDefined();
        expect(endedAt - stoppedAt).toBeGreaterThanOrEqual(GRACE_S * 1000 - 100);
        expect(endedAt - stoppedAt).toBeLessThan(GRACE_S * 1000 + 2500);
      }
      expect(exit.code).toBe(0);
      expect(exit.at - stoppedAt).toBeLessThan(GRACE_S * 1000 + 5000);

      // Every answer the clients received has its record; the cut streams are billed as a client that left.
      const completed = [...served, ...shorts.map((s) => s.outcome)];
      for (const outcome of completed) expect(byId.get(outcome.id ?? '')?.status, outcome.id).toBe(200);
      for (const { outcome } of longs) {
        const record = byId.get(outcome.id ?? '');
        expect(record).toMatchObject({ status: 499, error_code: 'TG_ERR_CLIENT_CLOSED', streamed: true });
        expect(record?.completion_tokens).toBeGreaterThan(0);
        expect(record?.cost_usd).toBeGreaterThan(0);
      }
      // And nothing else: one record per request Tollgate took (+1: the pipelined stream).
      expect(records.length).toBe(completed.length + longs.length + 1);
    } finally {
      if (tollgate.child.exitCode === null) tollgate.child.kill('SIGKILL');
    }
  }, 60_000);
});

/** The outcome of a request, and when it ended (completed or cut). */
async function timed(request: Promise<Outcome>): Promise<{ outcome: Outcome; endedAt: number }> {
  const outcome = await request;
  return { outcome, endedAt: Date.now() };
}
