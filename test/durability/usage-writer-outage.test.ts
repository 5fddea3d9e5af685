import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { insertUsage } from '../../src/gateway/metering/usage-insert.ts';
import { UsageSpool } from '../../src/gateway/metering/usage-spool.ts';
import { UsageWriter } from '../../src/gateway/metering/usage-writer.ts';
import { type Db, openStore, rawRows, type Store } from '../../src/store/db.ts';
import type { UsageRow } from '../../src/store/schema.ts';
import { backends, tempDir } from '../support/backends.ts';

/**
 * The usage writer against a real database that misbehaves: writes whose answer is lost,
 * writes that hang, a database that does not answer, a spool left by a process that died.
 * Whatever happens, every record ends up in usage_records exactly once.
 */
const KEY = '00000000-0000-4000-8000-0000000000k1'.replace('k1', 'b1');
let sequence = 0;
function row(overrides: Partial<UsageRow> = {}): UsageRow {
  sequence += 1;
  return {
    time: new Date(),
    requestId: `req_${randomUUID().replaceAll('-', '')}`,
    keyId: KEY,
    endpoint: 'chat.completions',
    model: 'gpt-4o',
    status: 200,
    promptTokens: 10,
    completionTokens: 5,
    costUsd: 0.001 * sequence,
    latencyMs: 12,
    ...overrides,
  };
}

const unreachable = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** A database with faults to order: down; the next N writes committed but answered with a broken connection; the next write held until released. */
function faulty(db: Db) {
  const state = { down: false, lostAnswers: 0, hold: undefined as Promise<void> | undefined };
  const proxy = new Proxy(db, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      const name = String(property);
      if (!['transaction', 'execute', 'insert'].includes(name)) return value.bind(target);
      return async (...args: unknown[]) => {
        if (state.down) throw unreachable();
        if (name === 'transaction' && state.hold) {
          const hold = state.hold;
          state.hold = undefined;
          await hold;
        }
        const result = await (value as (...a: unknown[]) => unknown).apply(target, args);
        if (name === 'transaction' && state.lostAnswers > 0) {
          state.lostAnswers -= 1;
          throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
        }
        return result;
      };
    },
  });
  return { db: proxy, state };
}

const until = async (condition: () => boolean | Promise<boolean>, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe.each(backends())('usage writer through database faults on $name', (backend) => {
  let store: Store;
  let dataDir: string;
  let link: ReturnType<typeof faulty>;
  let writer: UsageWriter | undefined;
  const deadLetterFile = () => path.join(dataDir, 'usage-dead-letters.jsonl');

  const stored = async () => {
    const rows = await rawRows<{ n: number; distinct: number }>(
      store.db,
      sql`select count(*)::int as n, count(distinct request_id)::int as distinct from usage_records`,
    );
    return rows[0] ?? { n: 0, distinct: 0 };
  };

  beforeAll(async () => {
    const prepared = await backend.prepare();
    store = await openStore(prepared);
    link = faulty(store.db);
  }, 60_000);

  afterAll(async () => {
    await writer?.close();
    await store?.close();
  });

  beforeEach(async () => {
    await writer?.close();
    writer = undefined;
    dataDir = tempDir();
    Object.assign(link.state, { down: false, lostAnswers: 0, hold: undefined });
    await store.db.execute(sql`delete from usage_records`);
  });

  it('writes a batch whose answer was lost (committed, then the connection broke) once, not twice', async () => {
    writer = new UsageWriter(link.db, { intervalMs: 20, deadLetterFile: deadLetterFile() });
    link.state.lostAnswers = 1;
    for (let i = 0; i < 20; i++) writer.record(row());
    await writer.flush();
    await until(async () => writer?.pending === 0 && writer.spooled === 0 && (await stored()).n >= 20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await stored()).toEqual({ n: 20, distinct: 20 });
  });

  it('gives up waiting on a write that hangs, keeps going, and still writes its records once', async () => {
    writer = new UsageWriter(link.db, { intervalMs: 20, writeTimeoutMs: 100, deadLetterFile: deadLetterFile() });
    let release = () => {};
    link.state.hold = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = Array.from({ length: 10 }, () => row());
    for (const record of first) writer.record(record);
    await writer.flush();
    // Hanging: its records are neither written nor forgotten by the spend counters.
    const held = first.reduce((sum, record) => sum + (record.costUsd ?? 0), 0);
    expect(writer.pendingSpend('keyId', KEY, null).allTime).toBeCloseTo(held);
    const later = Array.from({ length: 10 }, () => row());
    for (const record of later) writer.record(record);
    // The records that came after do not wait for it.
    await until(async () => (await stored()).n === 10);
    release();
    await until(async () => (await stored()).n === 20);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await stored()).toEqual({ n: 20, distinct: 20 });
    expect(writer.pendingSpend('keyId', KEY, null).allTime).toBe(0);
  });

  it('spools records while the database does not answer, counts their spend, and writes them when it returns', async () => {
    writer = new UsageWriter(link.db, { intervalMs: 20, deadLetterFile: deadLetterFile() });
    link.state.down = true;
    const records = Array.from({ length: 30 }, () => row());
    for (const record of records) writer.record(record);
    await until(() => writer?.spooled === 30);
    expect(writer.pending).toBe(0);
    expect(writer.unreachable).toBe(true);
    const spent = records.reduce((sum, record) => sum + (record.costUsd ?? 0), 0);
    expect(writer.pendingSpend('keyId', KEY, null).allTime).toBeCloseTo(spent);
    link.state.down = false;
    await until(async () => (await stored()).n === 30);
    await until(() => writer?.spooled === 0 && !writer.unreachable);
    expect(await stored()).toEqual({ n: 30, distinct: 30 });
    expect(writer.pendingSpend('keyId', KEY, null).allTime).toBe(0);
  });

  it('past the spool bound keeps records in memory, and past the memory bound drops them and counts them', async () => {
    const spool = new UsageSpool({ dir: path.join(dataDir, 'usage-spool'), maxBytes: 2000 });
    writer = new UsageWriter(link.db, { intervalMs: 20, spool, maxQueued: 5 });
    link.state.down = true;
    for (let i = 0; i < 40; i++) writer.record(row());
    await until(() => (writer?.spooled ?? 0) > 0);
    const onDisk = writer.spooled;
    expect(spool.bytes).toBeLessThanOrEqual(2000);
    expect(writer.pending).toBeLessThanOrEqual(5);
    expect(onDisk + writer.pending + writer.dropped).toBe(40);
    expect(writer.dropped).toBeGreaterThan(0);
    link.state.down = false;
    await until(async () => (await stored()).n === onDisk + (writer?.pending ?? 0) || writer?.pending === 0);
    await until(() => writer?.pending === 0 && writer.spooled === 0);
    expect((await stored()).n).toBe(40 - writer.dropped);
  });

  it('writes at start the spool of a process killed during an outage, each record once even if part was written', async () => {
    const records = Array.from({ length: 25 }, () => row());
    // The dead process: its spool holds all 25, and 10 of them had reached the database too
    // (a write whose answer was lost) before it died.
    const dead = new UsageSpool({ dir: path.join(dataDir, 'usage-spool'), pid: 999_999_1 });
    await dead.append(records);
    await dead.close();
    await insertUsage(store.db, records.slice(0, 10), false);
    writer = new UsageWriter(link.db, { intervalMs: 20, deadLetterFile: deadLetterFile() });
    expect(writer.spooled).toBe(25);
    await until(() => writer?.spooled === 0);
    expect(await stored()).toEqual({ n: 25, distinct: 25 });
  });
});
