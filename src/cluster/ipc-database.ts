import type { Worker } from 'node:cluster';
import { type PGlite, type Transaction, types } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import type { Db, Store } from '../store/db.ts';
import * as schema from '../store/schema.ts';
import type { PrimaryChannel, WorkerHub } from './ipc-channel.ts';

/**
 * The embedded database with workers. PGlite is one process's database, so the primary owns it
 * and its workers send their queries over IPC: a worker's drizzle runs on `IpcPglite`, which has
 * the two methods drizzle's PGlite driver calls (`query`, `transaction`), and the primary runs
 * each on its PGlite. A worker's transaction is a PGlite transaction in the primary, which PGlite
 * runs alone (other queries wait for it), as it does inside one process; the worker's statements
 * reach it by id, and if the worker dies it is rolled back.
 */

/** The value parsers drizzle's PGlite driver asks for: dates, times and arrays of them stay text. */
const PARSERS = Object.fromEntries(
  [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182].map((type) => [
    type,
    (value: string) => value,
  ]),
);

interface QueryCall {
  sql: string;
  params: unknown[];
  rowMode: 'object' | 'array';
  tx?: number;
}

/** A worker's stand-in for the primary's PGlite (or for one open transaction in it). */
class IpcPglite {
  constructor(
    private readonly channel: PrimaryChannel,
    private readonly tx?: number,
  ) {}

  query(sql: string, params?: unknown[], options?: { rowMode?: 'object' | 'array' }): Promise<unknown> {
    const call: QueryCall = { sql, params: params ?? [], rowMode: options?.rowMode ?? 'object' };
    if (this.tx !== undefined) call.tx = this.tx;
    return this.channel.call('db.query', call);
  }

  async transaction<T>(work: (tx: IpcPglite) => Promise<T>): Promise<T> {
    const tx = await this.channel.call<number>('db.begin');
    let result: T;
    try {
      result = await work(new IpcPglite(this.channel, tx));
    } catch (error) {
      await this.channel.call('db.end', { tx, commit: false }).catch(() => {});
      throw error;
    }
    await this.channel.call('db.end', { tx, commit: true });
    return result;
  }
}

/** A worker's store: drizzle over the primary's PGlite. Closing it leaves the database to the primary. */
export function openWorkerStore(channel: PrimaryChannel): Store {
  const db = drizzle(new IpcPglite(channel) as unknown as PGlite, { schema });
  return { db: db as unknown as Db, kind: 'pglite', close: async () => {} };
}

interface OpenTransaction {
  tx: Transaction;
  worker: Worker;
  decide: (commit: boolean) => void;
  done: Promise<void>;
}

/** The primary's side: runs its workers' queries and transactions on its PGlite. */
export function serveDatabase(hub: WorkerHub, pglite: PGlite): void {
  const open = new Map<number, OpenTransaction>();
  let next = 1;
  const owned = (id: number | undefined, worker: Worker): OpenTransaction => {
    const entry = id === undefined ? undefined : open.get(id);
    if (!entry || entry.worker !== worker) throw new Error('the transaction is over');
    return entry;
  };

  hub.handle('db.query', async (payload, worker) => {
    const call = payload as QueryCall;
    const target = call.tx === undefined ? pglite : owned(call.tx, worker).tx;
    const result = await target.query(call.sql, call.params, { rowMode: call.rowMode, parsers: PARSERS });
    return { rows: result.rows, fields: result.fields, affectedRows: result.affectedRows };
  });

  hub.handle(
    'db.begin',
    (_payload, worker) =>
      new Promise<number>((resolve, reject) => {
        const id = next++;
        let decide: (commit: boolean) => void = () => {};
        const decided = new Promise<boolean>((settle) => {
          decide = settle;
        });
        const done = pglite.transaction(async (tx) => {
          open.set(id, { tx, worker, decide, done });
          resolve(id);
          if (!(await decided)) await tx.rollback();
        });
        // Failing to begin rejects the call; failing to commit rejects db.end.
        done.catch(reject).finally(() => open.delete(id));
      }),
  );

  hub.handle('db.end', async (payload, worker) => {
    const { tx, commit } = payload as { tx: number; commit: boolean };
    const entry = owned(tx, worker);
    entry.decide(commit);
    await entry.done;
  });

  hub.onDeparture((worker) => {
    for (const entry of open.values()) if (entry.worker === worker) entry.decide(false);
  });
}
