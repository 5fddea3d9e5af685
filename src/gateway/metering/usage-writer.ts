import { sql } from 'drizzle-orm';
import type { Db } from '../../store/db.ts';
import type { UsageRow } from '../../store/schema.ts';

/** The columns a usage record is written with, and their types for `jsonb_to_recordset`. */
export const RECORD_COLUMNS: Array<[string, string]> = [
  ['time', 'timestamptz'],
  ['request_id', 'text'],
  ['org_id', 'uuid'],
  ['project_id', 'uuid'],
  ['key_id', 'uuid'],
  ['key_name', 'text'],
  ['user_id', 'uuid'],
  ['endpoint', 'text'],
  ['model', 'text'],
  ['provider', 'text'],
  ['upstream_model', 'text'],
  ['credential_id', 'uuid'],
  ['status', 'integer'],
  ['error_code', 'text'],
  ['prompt_tokens', 'integer'],
  ['completion_tokens', 'integer'],
  ['cached_tokens', 'integer'],
  ['cost_usd', 'double precision'],
  ['latency_ms', 'double precision'],
  ['ttft_ms', 'double precision'],
  ['streamed', 'boolean'],
];
const COLUMNS = RECORD_COLUMNS.map(([name]) => name).join(', ');
const RECORD_TYPE = RECORD_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');

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
  /** The batch being written now: no longer queued, not yet visible in the database. */
  #writing: UsageRow[] = [];
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

  /**
   * USD of records not yet committed (queued, or in a batch being written) that belong to the
   * scope, all time and since `since` (ms). Spend counters add this to what the database says,
   * instead of waiting for a flush on the request path. A batch that commits between the
   * database read and this call is counted twice: the error is on the safe side.
   */
  pendingSpend(field: 'keyId' | 'userId' | 'projectId' | 'orgId', id: string, since: number | null) {
    let allTime = 0;
    let recent = 0;
    for (const rows of [this.#writing, this.#queue]) {
      for (const row of rows) {
        if (row[field] !== id) continue;
        allTime += row.costUsd ?? 0;
        if (since !== null && row.time.getTime() >= since) recent += row.costUsd ?? 0;
      }
    }
    return { allTime, since: recent };
  }

  record(row: UsageRow): void {
    this.#queue.push(row);
    if (this.#queue.length === this.#batchSize) void this.flush();
  }

  /** Writes everything queued so far; resolves when it is in the database. */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#drain());
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#batchSize);
      this.#writing = batch;
      try {
        await this.#write(batch);
        this.written += batch.length;
        // Let waiting requests run before the next batch (matters when the database shares this thread).
        if (this.#queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
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
      } finally {
        this.#writing = [];
      }
    }
  }

  /**
   * One batch in one transaction and two statements: the rows travel as a single JSON
   * parameter expanded by `jsonb_to_recordset` (building thousands of bind parameters cost more
   * than the insert), and `last_used_at` is stamped for all the batch's keys at once.
   */
  async #write(batch: UsageRow[]): Promise<void> {
    const lastUsed = new Map<string, number>();
    const rows = batch.map((row) => {
      const time = row.time.getTime();
      if (row.keyId && time > (lastUsed.get(row.keyId) ?? 0)) lastUsed.set(row.keyId, time);
      return {
        time: row.time.toISOString(),
        request_id: row.requestId,
        org_id: row.orgId ?? null,
        project_id: row.projectId ?? null,
        key_id: row.keyId ?? null,
        key_name: row.keyName ?? null,
        user_id: row.userId ?? null,
        endpoint: row.endpoint,
        model: row.model ?? null,
        provider: row.provider ?? null,
        upstream_model: row.upstreamModel ?? null,
        credential_id: row.credentialId ?? null,
        status: row.status,
        error_code: row.errorCode ?? null,
        prompt_tokens: row.promptTokens ?? 0,
        completion_tokens: row.completionTokens ?? 0,
        cached_tokens: row.cachedTokens ?? 0,
        cost_usd: row.costUsd ?? 0,
        latency_ms: row.latencyMs,
        ttft_ms: row.ttftMs ?? null,
        streamed: row.streamed ?? false,
      };
    });
    const keys = [...lastUsed].map(([id, time]) => ({ id, time: new Date(time).toISOString() }));
    await this.#db.transaction(async (tx) => {
      await tx.execute(sql`
        insert into usage_records (${sql.raw(COLUMNS)})
        select ${sql.raw(COLUMNS)} from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as r(${sql.raw(RECORD_TYPE)})`);
      if (keys.length > 0) {
        await tx.execute(sql`
          update api_keys set last_used_at = greatest(api_keys.last_used_at, k.time)
          from jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) as k(id uuid, time timestamptz)
          where api_keys.id = k.id`);
      }
    });
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#closed = true;
    await this.flush();
  }
}
