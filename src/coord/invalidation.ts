import { gt, lt, max, or, sql } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { changes } from '../store/schema.ts';

/** What changed: the kind of object and its id (or another reference the kind defines). */
export interface Change {
  kind: 'key' | 'key-created' | 'model' | 'credential' | 'project' | 'user' | 'org';
  ref: string;
}
/** A cache's reaction to a change; a returned promise settles when the cache is fresh again. */
type Listener = (change: Change) => void | Promise<void>;

const LOOKBACK_MS = 3000;

/**
 * Tells every gateway instance that a cached object changed. The control plane publishes;
 * caches subscribe. `LocalInvalidation` serves one process; `DatabaseInvalidation` also
 * reaches other instances sharing a PostgreSQL database by polling the `changes` table.
 */
export interface Invalidation {
  publish(change: Change): Promise<void>;
  subscribe(listener: Listener): void;
  close(): Promise<void>;
}

export class LocalInvalidation implements Invalidation {
  protected readonly listeners: Listener[] = [];
  /** Resolves once this instance's caches have taken the change in (read your own writes). */
  async publish(change: Change): Promise<void> {
    await this.emit(change);
  }
  subscribe(listener: Listener): void {
    this.listeners.push(listener);
  }
  protected async emit(change: Change): Promise<void> {
    await Promise.all(this.listeners.map((listener) => listener(change)));
  }
  async close(): Promise<void> {}
}

export class DatabaseInvalidation extends LocalInvalidation {
  #lastId = 0;
  readonly #seen = new Map<number, number>();
  #timer: NodeJS.Timeout | undefined;
  #polling: Promise<void> | undefined;
  readonly #db: Db;

  private constructor(db: Db) {
    super();
    this.#db = db;
  }

  /** Starts polling every `intervalMs`; a change reaches other instances within about that long. */
  static async start(db: Db, intervalMs = 250): Promise<DatabaseInvalidation> {
    const self = new DatabaseInvalidation(db);
    const [last] = await db.select({ id: max(changes.id) }).from(changes);
    self.#lastId = Number(last?.id ?? 0);
    // Changes older than an hour are of no use to anyone: instances start with empty caches.
    await db.delete(changes).where(lt(changes.at, new Date(Date.now() - 3_600_000)));
    self.#timer = setInterval(() => {
      self.#polling ??= self.#poll().finally(() => {
        self.#polling = undefined;
      });
    }, intervalMs);
    self.#timer.unref();
    return self;
  }

  override async publish(change: Change): Promise<void> {
    await this.emit(change);
    await this.#db.insert(changes).values(change);
  }

  /**
   * Ids are taken at insert but rows become visible at commit, so a lower id can appear after a
   * higher one. Each poll therefore also rereads the last few seconds, skipping ids already seen.
   */
  async #poll(): Promise<void> {
    try {
      const rows = await this.#db
        .select()
        .from(changes)
        .where(
          or(gt(changes.id, this.#lastId), gt(changes.at, sql`now() - make_interval(secs => ${LOOKBACK_MS / 1000})`)),
        )
        .orderBy(changes.id);
      const now = Date.now();
      for (const row of rows) {
        if (this.#seen.has(row.id)) continue;
        this.#seen.set(row.id, now);
        this.#lastId = Math.max(this.#lastId, row.id);
        void this.emit({ kind: row.kind as Change['kind'], ref: row.ref });
      }
      for (const [id, at] of this.#seen) if (now - at > 3 * LOOKBACK_MS) this.#seen.delete(id);
    } catch {
      // The database is briefly unreachable: the next tick tries again.
    }
  }

  override async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#polling;
  }
}
