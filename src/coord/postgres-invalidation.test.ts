import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backends } from '../../test/support/backends.ts';
import { openStore, rawRows, type Store } from '../store/db.ts';
import type { Change } from './invalidation.ts';
import { PostgresInvalidation } from './postgres-invalidation.ts';

const postgres = backends().find((backend) => backend.name === 'postgres');

function recorder(feed: PostgresInvalidation): Change[] {
  const seen: Change[] = [];
  feed.subscribe((change) => {
    seen.push(change);
  });
  return seen;
}

describe.skipIf(!postgres)('PostgresInvalidation', () => {
  let store: Store;
  let databaseUrl: string;
  beforeAll(async () => {
    const database = await (postgres as NonNullable<typeof postgres>).prepare();
    databaseUrl = database.databaseUrl as string;
    store = await openStore(database);
  });
  afterAll(() => store?.close());

  it('brings a change to the other instance by NOTIFY, not by polling, and applies it once everywhere', async () => {
    // Polls every 10 minutes: only a notification can bring the change in time.
    const a = await PostgresInvalidation.start(store.db, databaseUrl, { safetyPollMs: 600_000 });
    const b = await PostgresInvalidation.start(store.db, databaseUrl, { safetyPollMs: 600_000 });
    try {
      const onA = recorder(a);
      const onB = recorder(b);
      await a.publish({ kind: 'key', ref: 'k1' });
      expect(onA).toEqual([{ kind: 'key', ref: 'k1' }]);
      await expect.poll(() => onB, { interval: 5, timeout: 500 }).toEqual([{ kind: 'key', ref: 'k1' }]);
      // The row and its notification went in one statement: the table holds it.
      const rows = await rawRows<{ kind: string; ref: string }>(store.db, sql`select kind, ref from changes`);
      expect(rows).toContainEqual({ kind: 'key', ref: 'k1' });
    } finally {
      await a.close();
      await b.close();
    }
    // Now a fast poll rereads every row: a change already applied is not applied again.
    const c = await PostgresInvalidation.start(store.db, databaseUrl, { safetyPollMs: 50 });
    const d = await PostgresInvalidation.start(store.db, databaseUrl, { safetyPollMs: 50 });
    try {
      const onC = recorder(c);
      const onD = recorder(d);
      await c.publish({ kind: 'model', ref: 'm1' });
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect(onC).toEqual([{ kind: 'model', ref: 'm1' }]);
      expect(onD).toEqual([{ kind: 'model', ref: 'm1' }]);
    } finally {
      await c.close();
      await d.close();
    }
  });

  it('listens again after its connection is cut, and reads what it missed meanwhile', async () => {
    const lines: string[] = [];
    const log = (_details: object, message: string) => lines.push(message);
    const a = await PostgresInvalidation.start(store.db, databaseUrl, { safetyPollMs: 600_000 });
    const b = await PostgresInvalidation.start(store.db, databaseUrl, {
      safetyPollMs: 600_000,
      logger: { info: log, warn: log, error: log },
    });
    try {
      const onB = recorder(b);
      // Cut every LISTEN connection to this database (the administrator or a failover would).
      await store.db.execute(
        sql`select pg_terminate_backend(pid) from pg_stat_activity
            where datname = current_database() and query ilike 'listen%' and pid <> pg_backend_pid()`,
      );
      await a.publish({ kind: 'project', ref: 'p1' });
      await expect.poll(() => onB, { interval: 10, timeout: 5000 }).toEqual([{ kind: 'project', ref: 'p1' }]);
      await expect.poll(() => lines.join('\n'), { timeout: 5000 }).toMatch(/LISTEN on PostgreSQL resumed/);
      await a.publish({ kind: 'org', ref: 'o1' });
      await expect.poll(() => onB.length, { interval: 5, timeout: 500 }).toBe(2);
    } finally {
      await a.close();
      await b.close();
    }
  }, 30_000);
});
