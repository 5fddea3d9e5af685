import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageWriter } from '../../src/gateway/metering/usage-writer.ts';
import { createLogger } from '../../src/logger.ts';
import { type Db, openStore, rawRows, type Store } from '../../src/store/db.ts';
import type { UsageRow } from '../../src/store/schema.ts';
import { backends } from '../support/backends.ts';

/**
 * Issue #9: one usage record PostgreSQL cannot store (a NUL or a lone surrogate in the requested
 * model name) used to stop all usage recording — the batch retried for ever, everything queued
 * behind it, and every retry logged the whole batch. Against the real database: the writer
 * stores what can be made storable, sets aside what cannot, keeps going, and logs little.
 */
let sequence = 0;
function row(overrides: Partial<UsageRow> = {}): UsageRow {
  sequence += 1;
  return {
    time: new Date(),
    requestId: `req_good_${sequence}`,
    endpoint: 'chat.completions',
    model: 'gpt-4o',
    status: 200,
    promptTokens: 10,
    completionTokens: 5,
    costUsd: 0.001,
    latencyMs: 12,
    ...overrides,
  };
}

/** The database, or, while `down` is set, a database that cannot be reached. */
function unreliable(db: Db): { db: Db; setDown(down: boolean): void } {
  let down = false;
  const refuse = () =>
    Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
  const proxy = new Proxy(db, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (down && ['transaction', 'execute', 'insert'].includes(String(property))) return () => refuse();
      return value.bind(target);
    },
  });
  return { db: proxy, setDown: (value) => (down = value) };
}

describe.each(backends())('usage writer given poisoned records on $name', (backend) => {
  let store: Store;
  let dataDir: string;
  let logs: string[];
  let writer: UsageWriter;
  let link: ReturnType<typeof unreliable>;

  const count = async (table: 'usage_records' | 'usage_dead_letters') =>
    Number((await rawRows<{ n: number }>(store.db, sql.raw(`select count(*)::int as n from ${table}`)))[0]?.n);
  const logBytes = () => logs.reduce((sum, line) => sum + line.length, 0);

  beforeAll(async () => {
    const prepared = await backend.prepare();
    dataDir = prepared.dataDir;
    store = await openStore(prepared);
    link = unreliable(store.db);
  }, 60_000);

  afterAll(async () => {
    await writer?.close();
    await store?.close();
  });

  beforeEach(async () => {
    await writer?.close();
    logs = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    writer = new UsageWriter(link.db, {
      intervalMs: 20,
      batchSize: 50,
      logger: createLogger({ logLevel: 'info' }, sink),
      deadLetterFile: path.join(dataDir, 'usage-dead-letters.jsonl'),
    });
    await store.db.execute(sql`delete from usage_records`);
    await store.db.execute(sql`delete from usage_dead_letters`).catch(() => {});
  });

  it('writes the rest of the batch, stores cleaned-up text, and sets aside what cannot be stored', async () => {
    const good = Array.from({ length: 40 }, () => row());
    const nul = row({ requestId: 'req_nul', model: 'gpt\u0000-4o' });
    const surrogate = row({ requestId: 'req_surrogate', model: 'gpt\ud800-4o', keyName: '\udc00key' });
    const huge = row({ requestId: 'req_huge', model: 'm'.repeat(1_000_000) });
    const badUuid = row({ requestId: 'req_bad_uuid', keyId: 'not-a-uuid' });
    const overflow = row({ requestId: 'req_overflow', promptTokens: 2 ** 40 });
    for (const [index, record] of good.entries()) {
      writer.record(record);
      if (index === 7) for (const poison of [nul, surrogate, huge, badUuid, overflow]) writer.record(poison);
    }
    await writer.flush();

    expect(await count('usage_records')).toBe(43);
    const stored = await rawRows<{ request_id: string; model: string; key_name: string | null }>(
      store.db,
      sql`select request_id, model, key_name from usage_records where request_id in ('req_nul', 'req_surrogate', 'req_huge') order by request_id`,
    );
    expect(stored.map((r) => r.request_id)).toEqual(['req_huge', 'req_nul', 'req_surrogate']);
    expect(stored[0]?.model.length).toBeLessThanOrEqual(1024);
    expect(stored[1]?.model).toBe('gpt\ufffd-4o');
    expect(stored[2]?.model).toBe('gpt\ufffd-4o');
    expect(stored[2]?.key_name).toBe('\ufffdkey');

    const letters = await rawRows<{ record: string; reason: string; failed_at: unknown }>(
      store.db,
      sql`select record, reason, failed_at from usage_dead_letters order by id`,
    );
    expect(letters.map((letter) => JSON.parse(letter.record).requestId).sort()).toEqual([
      'req_bad_uuid',
      'req_overflow',
    ]);
    for (const letter of letters) {
      expect(letter.reason.length).toBeGreaterThan(0);
      expect(letter.failed_at).toBeTruthy();
    }
    expect(letters.find((letter) => letter.record.includes('req_bad_uuid'))?.reason).toMatch(/uuid/i);
    expect(letters.find((letter) => letter.record.includes('req_overflow'))?.reason).toMatch(/range/i);
    expect(writer.pending).toBe(0);
    expect(writer.dropped).toBe(0);
  });

  it('is not stuck behind a poisoned record: later records are written too', async () => {
    writer.record(row({ keyId: 'not-a-uuid' }));
    await writer.flush();
    for (let i = 0; i < 10; i++) writer.record(row());
    await writer.flush();
    expect(await count('usage_records')).toBe(10);
    expect(await count('usage_dead_letters')).toBe(1);
    expect(writer.pending).toBe(0);
  });

  it('logs counts and a short sample, never the batch, and one line for a flood of the same failure', async () => {
    const marker = 'req_must_not_be_logged_';
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 20; i++) writer.record(row({ requestId: `${marker}${round}_${i}` }));
      for (let i = 0; i < 5; i++)
        writer.record(row({ requestId: `req_poison_${round}_${i}`, keyId: 'not-a-uuid', model: 'x'.repeat(100_000) }));
      await writer.flush();
    }
    expect(await count('usage_records')).toBe(400);
    expect(await count('usage_dead_letters')).toBe(100);
    const all = logs.join('');
    expect(all).not.toContain(marker);
    expect(Math.max(...logs.map((line) => line.length))).toBeLessThan(4096);
    expect(logBytes()).toBeLessThan(8192);
    expect(logs.length).toBeLessThanOrEqual(3);
  });

  it('keeps every record while the database is unreachable and writes them all when it returns', async () => {
    link.setDown(true);
    for (let i = 0; i < 30; i++) writer.record(row());
    await writer.flush();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // On disk in the spool by now, not in memory.
    expect(writer.pending + writer.spooled).toBe(30);
    expect(writer.spooled).toBe(30);
    link.setDown(false);
    // The retry comes by itself, after a back-off.
    const deadline = Date.now() + 10_000;
    while (writer.pending + writer.spooled > 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writer.pending + writer.spooled).toBe(0);
    expect(await count('usage_records')).toBe(30);
    expect(await count('usage_dead_letters')).toBe(0);
    expect(writer.dropped).toBe(0);
    expect(logBytes()).toBeLessThan(4096);
    expect(existsSync(path.join(dataDir, 'usage-dead-letters.jsonl'))).toBe(false);
  }, 20_000);

  it('at shutdown with the database gone, keeps what it could not write in the spool for the next start', async () => {
    link.setDown(true);
    for (let i = 0; i < 3; i++) writer.record(row({ requestId: `req_shutdown_${i}` }));
    await writer.close();
    expect(writer.spooled).toBe(3);
    link.setDown(false);
    writer = new UsageWriter(link.db, {
      intervalMs: 20,
      deadLetterFile: path.join(dataDir, 'usage-dead-letters.jsonl'),
    });
    await writer.flush();
    const written = await rawRows<{ request_id: string }>(
      store.db,
      sql`select request_id from usage_records order by request_id`,
    );
    expect(written.map((r) => r.request_id)).toEqual(['req_shutdown_0', 'req_shutdown_1', 'req_shutdown_2']);
    expect(writer.spooled).toBe(0);
  });

  it('without a spool, at shutdown with the database gone, keeps what it could not write in a JSONL file', async () => {
    await writer.close();
    writer = new UsageWriter(link.db, { spool: null, deadLetterFile: path.join(dataDir, 'usage-dead-letters.jsonl') });
    link.setDown(true);
    for (let i = 0; i < 3; i++) writer.record(row({ requestId: `req_shutdown_${i}` }));
    await writer.close();
    link.setDown(false);
    const file = path.join(dataDir, 'usage-dead-letters.jsonl');
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.map((line) => JSON.parse(line.record).requestId)).toEqual([
      'req_shutdown_0',
      'req_shutdown_1',
      'req_shutdown_2',
    ]);
    expect(lines[0].reason).toMatch(/unreachable at shutdown: .*ECONNREFUSED/);
  });
});
