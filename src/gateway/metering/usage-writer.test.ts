import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getTableColumns, type SQL } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import type { Db } from '../../store/db.ts';
import { type UsageRow, usageRecords } from '../../store/schema.ts';
import { RECORD_COLUMNS, UsageWriter } from './usage-writer.ts';

describe('usage writer', () => {
  it('writes every column of usage_records but the generated id', () => {
    const columns = Object.values(getTableColumns(usageRecords))
      .map((column) => column.name)
      .filter((name) => name !== 'id')
      .sort();
    expect(RECORD_COLUMNS.map(([name]) => name).sort()).toEqual(columns);
  });
});

/** A database that answers, refuses any batch holding a record named `poison`, and refuses usage_dead_letters. */
function refusingDatabase() {
  const dialect = new PgDialect();
  const written: string[] = [];
  let attempts = 0;
  const db = {
    execute: async () => ({ rows: [] }),
    insert: () => ({
      values: async () => {
        throw Object.assign(new Error('permission denied for table usage_dead_letters'), { code: '42501' });
      },
    }),
    transaction: async (body: (tx: unknown) => Promise<void>) =>
      body({
        execute: async (query: SQL) => {
          const { sql, params } = dialect.sqlToQuery(query);
          if (!sql.includes('insert into usage_records')) return;
          attempts += 1;
          const rows = JSON.parse(String(params[0])) as Array<{ request_id: string }>;
          if (rows.some((row) => row.request_id.startsWith('poison'))) {
            throw Object.assign(new Error('invalid input syntax for type uuid: "x"'), { code: '22P02' });
          }
          written.push(...rows.map((row) => row.request_id));
        },
      }),
  };
  return { db: db as unknown as Db, written, attempts: () => attempts };
}

const row = (requestId: string): UsageRow => ({
  time: new Date(0),
  requestId,
  endpoint: 'chat.completions',
  status: 200,
  latencyMs: 1,
});

describe('usage writer given a record the database refuses', () => {
  it('isolates it by halving the batch, writes the rest, and keeps it in the dead-letter file when the table refuses too', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'tollgate-usage-')), 'usage-dead-letters.jsonl');
    const database = refusingDatabase();
    const writer = new UsageWriter(database.db, { intervalMs: 60_000, batchSize: 64, deadLetterFile: file });
    for (let i = 0; i < 64; i++) writer.record(row(i === 37 ? 'poison-37' : `good-${i}`));
    await writer.flush();
    expect(database.written).toHaveLength(63);
    expect(database.written).not.toContain('poison-37');
    // One whole-batch attempt, then two per halving (log2 64 = 6), not one per record.
    expect(database.attempts()).toBeLessThanOrEqual(1 + 2 * 6);
    const letters = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(letters).toHaveLength(1);
    expect(letters[0].requestId).toBe('poison-37');
    expect(letters[0].reason).toBe('22P02: invalid input syntax for type uuid: "x"');
    expect(JSON.parse(letters[0].record).requestId).toBe('poison-37');
    expect(writer.deadLettered).toBe(1);
    expect(writer.pending).toBe(0);
    await writer.close();
  });
});
