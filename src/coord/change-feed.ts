import { randomUUID } from 'node:crypto';
import { gt, lt, max, or, sql } from 'drizzle-orm';
import type { Db } from '../store/db.ts';
import { changes } from '../store/schema.ts';
import { coalescedReload } from './coalesced-reload.ts';
import { type Change, LocalInvalidation } from './invalidation.ts';

/**
 * Ids are taken at insert but rows become visible at commit, so a lower id can appear after a
 * higher one: every read of the table also rereads this far back, skipping ids already applied.
 */
const LOOKBACK_MS = 3000;
const RECENT = gt(changes.at, sql`now() - make_interval(secs => ${LOOKBACK_MS / 1000})`);
/** Changes older than this are of no use to anyone: instances start with empty caches. */
const RETENTION_MS = 3_600_000;

/** Where a feed reports its push channel going and coming back; a pino logger fits. */
export interface FeedLogger {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface ChangeFeedOptions {
  /** Rereads the table this often while the push channel is up: a net for a message lost in transit. */
  safetyPollMs?: number;
  /** Rereads it this often while the push channel is down, so a revoke still lands within a second. */
  degradedPollMs?: number;
  logger?: FeedLogger;
}

/** A change as pushed between instances: its row in `changes`, and the instance that made it. */
export interface ChangeMessage extends Change {
  id: number;
  origin: string;
}

const quiet: FeedLogger = { info() {}, warn() {}, error() {} };

/**
 * Invalidation across instances sharing a PostgreSQL database. Every change is a row in the
 * `changes` table (the record, and the way to catch up) and a message on a push channel (the
 * fast path), defined by subclasses. An instance applies each row once: its own changes when it
 * publishes them, others' when the first of message or table read brings them. The table is read
 * when the push channel (re)connects, since messages sent while it was down are gone, and on a
 * timer in case one is lost in transit — often while the channel is down, rarely while it is up.
 */
export abstract class ChangeFeed extends LocalInvalidation {
  /** Tells this instance's messages from others'. */
  protected readonly origin = randomUUID();
  protected readonly db: Db;
  protected readonly logger: FeedLogger;
  readonly #safetyPollMs: number;
  readonly #degradedPollMs: number;
  /** Highest id read from the table; later reads start there (and look back a little). */
  #lastId = 0;
  /** Ids applied (or published here), with when, until the table reads no longer return them. */
  readonly #seen = new Map<number, number>();
  #pushing = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #reading: Promise<void> | undefined;

  protected constructor(db: Db, options: ChangeFeedOptions) {
    super();
    this.db = db;
    this.logger = options.logger ?? quiet;
    this.#safetyPollMs = options.safetyPollMs ?? 2000;
    this.#degradedPollMs = options.degradedPollMs ?? 250;
  }

  /**
   * Starts after the newest change: the caches load after this, so what is committed now is in
   * them. Recent rows are marked applied, or the first read's look-back would apply them again.
   */
  protected async open(): Promise<void> {
    await this.db.delete(changes).where(lt(changes.at, new Date(Date.now() - RETENTION_MS)));
    const [last] = await this.db.select({ id: max(changes.id) }).from(changes);
    this.#lastId = Number(last?.id ?? 0);
    const recent = await this.db.select({ id: changes.id }).from(changes).where(RECENT);
    const now = Date.now();
    for (const row of recent) this.#seen.set(row.id, now);
    this.#schedule();
  }

  /** Stores the change and pushes it to the other instances; resolves with the row's id. */
  protected abstract append(change: Change): Promise<number>;

  /** Applies the change here first (read your own writes), then tells the others. */
  override async publish(change: Change): Promise<void> {
    await this.emit(change);
    this.#seen.set(await this.append(change), Date.now());
  }

  /** A message from the push channel; malformed ones and this instance's own are ignored. */
  protected receive(payload: string): void {
    let message: Partial<ChangeMessage>;
    try {
      message = JSON.parse(payload);
    } catch {
      return;
    }
    const { id, kind, ref, origin } = message;
    if (typeof id !== 'number' || typeof kind !== 'string' || typeof ref !== 'string') return;
    if (origin === this.origin) return;
    this.#apply(id, { kind, ref });
  }

  protected get pushing(): boolean {
    return this.#pushing;
  }

  /** The push channel is up (again): read what it may have missed, then poll slowly. */
  protected async pushUp(): Promise<void> {
    this.#pushing = true;
    await this.catchUp();
    this.#schedule();
  }

  /** The push channel is down: poll often until it returns. */
  protected pushDown(): void {
    this.#pushing = false;
    this.#schedule();
  }

  /** Reads the table for changes not yet applied. Concurrent calls share a read; one made during a read reads again after. */
  readonly catchUp = coalescedReload(
    () => this.#read(),
    // The database is unreachable: the next read tries again, and the store's users say so loudly.
    () => {},
  );

  async #read(): Promise<void> {
    const rows = await this.db
      .select()
      .from(changes)
      .where(or(gt(changes.id, this.#lastId), RECENT))
      .orderBy(changes.id);
    for (const row of rows) {
      this.#lastId = Math.max(this.#lastId, row.id);
      this.#apply(row.id, { kind: row.kind as Change['kind'], ref: row.ref });
    }
    // Past the look-back, only ids above #lastId are read again, and those are kept.
    const now = Date.now();
    for (const [id, at] of this.#seen) if (id <= this.#lastId && now - at > 2 * LOOKBACK_MS) this.#seen.delete(id);
  }

  #apply(id: number, change: Change): void {
    if (this.#seen.has(id)) return;
    this.#seen.set(id, Date.now());
    void this.emit(change);
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    if (this.#closed) return;
    this.#timer = setTimeout(
      () => {
        this.#reading = this.catchUp().finally(() => this.#schedule());
      },
      this.#pushing ? this.#safetyPollMs : this.#degradedPollMs,
    );
    this.#timer.unref();
  }

  override async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#reading;
  }
}
