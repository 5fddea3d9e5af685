import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { UsageRow } from '../../store/schema.ts';
import { UsageSpool } from './usage-spool.ts';

const KEY = '00000000-0000-4000-8000-000000000001';
const row = (requestId: string, costUsd = 0.01, time = new Date('2025-01-01T10:00:30Z')): UsageRow => ({
  time,
  requestId,
  keyId: KEY,
  orgId: '00000000-0000-4000-8000-0000000000aa',
  endpoint: 'chat.completions',
  status: 200,
  latencyMs: 1,
  costUsd,
});
const dir = () => path.join(mkdtempSync(path.join(tmpdir(), 'tollgate-spool-')), 'usage-spool');
const drain = (spool: UsageSpool, file: Parameters<UsageSpool['batches']>[0], size = 100) =>
  [...spool.batches(file, size)].flat();

describe('usage spool', () => {
  it('keeps appended records on disk and gives them back, times as dates, in order', async () => {
    const spool = new UsageSpool({ dir: dir() });
    expect(await spool.append([row('a'), row('b')])).toBe(2);
    expect(await spool.append([row('c')])).toBe(3 - 2);
    expect(spool.records).toBe(3);
    expect(spool.bytes).toBeGreaterThan(0);
    const [file, ...rest] = await spool.take();
    expect(rest).toEqual([]);
    if (!file) throw new Error('no file');
    const rows = drain(spool, file, 2);
    expect(rows.map((r) => r.requestId)).toEqual(['a', 'b', 'c']);
    expect(rows[0]?.time).toEqual(new Date('2025-01-01T10:00:30Z'));
    // Records appended after take() go to a new file.
    await spool.append([row('d')]);
    spool.written(file, rows);
    await spool.finished(file);
    expect(spool.records).toBe(1);
    const [next] = await spool.take();
    if (!next) throw new Error('no file');
    expect(drain(spool, next).map((r) => r.requestId)).toEqual(['d']);
    await spool.close();
  });

  it('takes no more than its bound: the records that fit, in order, and none after', async () => {
    const probe = new UsageSpool({ dir: dir() });
    await probe.append([row('x')]);
    const one = probe.bytes;
    const spool = new UsageSpool({ dir: dir(), maxBytes: one * 3 + 1 });
    expect(await spool.append([row('a'), row('b'), row('c'), row('d')])).toBe(3);
    expect(await spool.append([row('e')])).toBe(0);
    expect(spool.records).toBe(3);
    expect(spool.bytes).toBeLessThanOrEqual(spool.maxBytes);
  });

  it('skips the records of a file already written when a replay is taken up again', async () => {
    const spool = new UsageSpool({ dir: dir() });
    await spool.append([row('a'), row('b'), row('c')]);
    const [file] = await spool.take();
    if (!file) throw new Error('no file');
    const [first] = spool.batches(file, 2);
    spool.written(file, first ?? []);
    expect(drain(spool, file).map((r) => r.requestId)).toEqual(['c']);
  });

  it('claims the files of a process that is no longer running, and leaves those of a running one', async () => {
    const shared = dir();
    const dead = new UsageSpool({ dir: shared, pid: 1_000_001 });
    await dead.append([row('from-dead')]);
    const running = new UsageSpool({ dir: shared, pid: 1_000_002 });
    await running.append([row('from-running')]);
    // `dead` stopped without writing its records (a kill -9): its file is no longer held.
    await dead.close();
    // `running` lives in another process: held there, not here.
    await running.close();
    const alive = (pid: number) => pid === 1_000_002;
    const heir = new UsageSpool({ dir: shared, pid: 1_000_003, alive });
    expect(heir.records).toBe(1);
    const [file, ...rest] = await heir.take();
    expect(rest).toEqual([]);
    if (!file) throw new Error('no file');
    expect(drain(heir, file).map((r) => r.requestId)).toEqual(['from-dead']);
    // A second claimant finds nothing left to claim.
    const late = new UsageSpool({ dir: shared, pid: 1_000_004, alive });
    expect(late.records).toBe(0);
  });

  it("claims this process id's files that no open spool holds (a container restarted with the same pid)", async () => {
    const shared = dir();
    const before = new UsageSpool({ dir: shared, pid: 7 });
    await before.append([row('a'), row('b')]);
    // Not closed: the process died. The next process has the same id, 7.
    const after = new UsageSpool({ dir: shared, pid: 8, alive: () => false });
    expect(after.records).toBe(0); // pid 7's file is held by `before`, an open spool of this process
    await before.close();
    const restarted = new UsageSpool({ dir: shared, pid: 7, alive: () => true });
    expect(restarted.records).toBe(2);
  });

  it('counts a torn last line as unreadable and reads the rest', async () => {
    const shared = dir();
    const crashed = new UsageSpool({ dir: shared, pid: 1_000_010 });
    await crashed.append([row('a')]);
    const [name] = readdirSync(shared);
    appendFileSync(path.join(shared, name ?? ''), '{"time":"2025-01-01T10:00:00Z","requestId":"b');
    await crashed.close();
    const heir = new UsageSpool({ dir: shared, pid: 1_000_011, alive: () => false });
    expect(heir.records).toBe(1);
    expect(heir.unreadable).toBe(1);
  });

  it('keeps the spend of spooled records per scope, the straddled minute counted whole', async () => {
    const spool = new UsageSpool({ dir: dir() });
    await spool.append([row('a', 0.25), row('b', 0.5, new Date('2025-01-01T10:05:10Z'))]);
    expect(spool.spend.of('keyId', KEY, null).allTime).toBeCloseTo(0.75);
    // Since 10:05:30: the 10:05 minute counts whole (the safe side), 10:00 does not.
    expect(spool.spend.of('keyId', KEY, Date.parse('2025-01-01T10:05:30Z')).since).toBeCloseTo(0.5);
    expect(spool.spend.of('orgId', '00000000-0000-4000-8000-0000000000aa', null).allTime).toBeCloseTo(0.75);
    const [file] = await spool.take();
    if (!file) throw new Error('no file');
    spool.written(file, drain(spool, file));
    expect(spool.spend.of('keyId', KEY, null).allTime).toBe(0);
  });

  it('writes owner-only files', async () => {
    const shared = dir();
    const spool = new UsageSpool({ dir: shared });
    await spool.append([row('a')]);
    const [name] = readdirSync(shared);
    expect(readFileSync(path.join(shared, name ?? ''), 'utf8')).toContain('"requestId":"a"');
  });
});
