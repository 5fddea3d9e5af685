import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { type AnyColumn, getTableColumns, getTableName, is, sql } from 'drizzle-orm';
import { type AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { type Db, openStore, type Store } from '../../src/store/db.ts';
import * as schema from '../../src/store/schema.ts';
import { SECRET_COLUMNS } from '../../src/store/schema.ts';
import { backends } from '../support/backends.ts';

/**
 * Issue #9: a failed insert logged its parameters — drizzle puts them in the error's message and
 * `params`, drivers in `parameters` and `detail` — so scrypt password hashes reached the error
 * log. For every column that holds a secret or something derived from one, a failed insert and
 * a failed update are logged the ways Tollgate logs errors, and the value must not appear.
 */
const tables = (Object.values(schema) as unknown[]).filter((value): value is PgTable => is(value, PgTable));
/** Column names that suggest a secret; `*_tokens` are token counts. */
const LOOKS_SECRET = /hash|secret|password|csrf|cipher|token(?!s)/;

const nameOf = (column: AnyColumn) => `${getTableName(column.table)}.${column.name}`;

function propertyOf(column: AnyPgColumn): string {
  const entry = Object.entries(getTableColumns(column.table)).find(([, candidate]) => candidate === column);
  if (!entry) throw new Error(`no property for ${nameOf(column)}`);
  return entry[0];
}

/** Logs an error every way Tollgate does, and returns all that was written. */
function logged(error: unknown): string {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const logger = createLogger({ logLevel: 'info' }, sink);
  logger.error({ err: error }, 'insert failed');
  logger.error(error as Error);
  logger.child({ reqId: 'req_1' }).error({ err: error, requestId: 'req_1' }, 'request failed');
  logger.error({ error }, 'reload failed');
  return lines.join('');
}

async function failure(attempt: Promise<unknown>): Promise<unknown> {
  return attempt.then(
    () => {
      throw new Error('expected the statement to fail');
    },
    (error: unknown) => error,
  );
}

function secretFor(column: AnyPgColumn): { value: unknown; needle: string } {
  const needle = randomBytes(12).toString('hex');
  const text = `secret-${column.name}-${needle}`;
  return { value: column.columnType === 'PgJsonb' ? { apiKey: text } : text, needle };
}

it('lists every column whose name looks secret in SECRET_COLUMNS', () => {
  const listed = new Set<AnyColumn>(SECRET_COLUMNS);
  const unlisted = tables
    .flatMap((table) => Object.values(getTableColumns(table)))
    .filter((column) => LOOKS_SECRET.test(column.name) && !listed.has(column))
    .map(nameOf);
  expect(unlisted, 'add these to SECRET_COLUMNS in src/store/schema.ts (or rename them)').toEqual([]);
  expect(SECRET_COLUMNS.length).toBeGreaterThanOrEqual(9);
});

describe.each(backends())('secrets in failed database writes on $name', (backend) => {
  let store: Store;
  let db: Db;

  beforeAll(async () => {
    store = await openStore(await backend.prepare());
    db = store.db;
  }, 60_000);

  afterAll(async () => {
    await store?.close();
  });

  it.each(SECRET_COLUMNS.map((column) => [nameOf(column), column] as const))(
    'never logs %s from a failed insert or update',
    async (_name, column) => {
      const table = column.table as PgTable;
      const property = propertyOf(column);
      const { value, needle } = secretFor(column);
      // Insert: the secret alone, so a required column is missing and the statement fails.
      const inserted = await failure(db.insert(table).values({ [property]: value } as never));
      // Update: a condition that cannot be evaluated, so the statement fails whatever the rows.
      const updated = await failure(
        db
          .update(table)
          .set({ [property]: value } as never)
          .where(sql`${'not-a-number'}::int = 1`),
      );
      for (const error of [inserted, updated]) {
        const output = logged(error);
        expect(output).toContain('"type"');
        expect(output).not.toContain(needle);
      }
    },
  );

  it('never logs a secret the database names in a unique-violation detail', async () => {
    const needle = randomBytes(12).toString('hex');
    const tokenHash = `secret-token-hash-${needle}`;
    await db.insert(schema.adminTokens).values({ name: 'first', tokenHash });
    const error = await failure(db.insert(schema.adminTokens).values({ name: 'second', tokenHash }));
    const output = logged(error);
    expect(output).toContain('23505');
    expect(output).not.toContain(needle);
  });
});
