import { eq, sql } from 'drizzle-orm';
import type { Db } from '../../store/db.ts';
import { apiKeys, type UsageRow, usageRecords } from '../../store/schema.ts';

export interface UsageWriterOptions {
  /** Flush at least this often, so a crash loses at most this much. */
  intervalMs?: number;
  /** Flush as soon as this many records wait. */
  batchSize?: number;
  onError?: (error: unknown, dropped: number) => void;
}

/**
 * Writes usage records behind the response, in batches. `record` only queues; a timer and a
 * size threshold flush; `close` flushes what is left, so a graceful stop loses nothing.
 * The same flush stamps `last_used_at` on the keys that were used.
 */
export class UsageWriter {
  #queue: UsageRow[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #timer: NodeJS.Timeout;
  readonly #db: Db;
  readonly #batchSize: number;
  readonly #onError: (error: unknown, dropped: number) => void;
  /** Records written since start; for tests and metrics. */
  written = 0;
  /** Records given up on (only at close, when the database stays unreachable). */
  dropped = 0;

  constructor(db: Db, options: UsageWriterOptions = {}) {
    this.#db = db;
    this.#batchSize = options.batchSize ?? 500;
    this.#onError = options.onError ?? (() => {});
    this.#timer = setInterval(() => void this.flush(), options.intervalMs ?? 500);
    this.#timer.unref();
  }

  get pending(): number {
    return this.#queue.length;
  }

  record(row: UsageRow): void {
    this.#queue.push(row);
    if (this.#queue.length >= this.#batchSize) void this.flush();
  }

  /** Writes everything queued so far; resolves when it is in the database. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#drain());
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#batchSize);
      try {
        await this.#write(batch);
        this.written += batch.length;
      } catch (error) {
        if (this.#closed) {
          this.dropped += batch.length;
          this.#onError(error, batch.length);
          continue;
        }
        // Put the batch back and try again on the next tick rather than lose it.
        this.#queue.unshift(...batch);
        this.#onError(error, 0);
        return;
      }
    }
  }

  async #write(batch: UsageRow[]): Promise<void> {
    const lastUsed = new Map<string, Date>();
    for (const row of batch) {
      if (!row.keyId) continue;
      const previous = lastUsed.get(row.keyId);
      if (!previous || previous < row.time) lastUsed.set(row.keyId, row.time);
    }
    await this.#db.transaction(async (tx) => {
      await tx.insert(usageRecords).values(batch);
      for (const [keyId, time] of lastUsed) {
        await tx
          .update(apiKeys)
          .set({ lastUsedAt: sql`greatest(${apiKeys.lastUsedAt}, ${time.toISOString()}::timestamptz)` })
          .where(eq(apiKeys.id, keyId));
      }
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#closed = true;
    await this.flush();
  }
}
