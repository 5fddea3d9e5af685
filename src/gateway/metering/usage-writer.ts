import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { LogThrottle } from '../../log-throttle.ts';
import { errorReason, truncate } from '../../safe-error.ts';
import type { Db } from '../../store/db.ts';
import { type UsageRow, usageDeadLetters } from '../../store/schema.ts';
import { deadLetterJson, storableRow, storableText } from './storable.ts';

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
  ['cache_write_tokens', 'integer'],
  ['cache_write_1h_tokens', 'integer'],
  ['reasoning_tokens', 'integer'],
  ['usage_source', 'text'],
  ['cost_usd', 'double precision'],
  ['latency_ms', 'double precision'],
  ['ttft_ms', 'double precision'],
  ['streamed', 'boolean'],
];
const COLUMNS = RECORD_COLUMNS.map(([name]) => name).join(', ');
const RECORD_TYPE = RECORD_COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ');

/** Where the writer reports trouble; a pino logger fits. */
export interface UsageLogger {
  error(details: object, message: string): void;
  warn(details: object, message: string): void;
}

export interface UsageWriterOptions {
  /** Flush at least this often, so a crash loses at most this much. */
  intervalMs?: number;
  /** Flush as soon as this many records wait. */
  batchSize?: number;
  /** Lines are bounded (counts and a short sample, never a batch) and repeats rate-limited. */
  logger?: UsageLogger;
  /** JSON Lines file for records neither usage_records nor usage_dead_letters would take. */
  deadLetterFile?: string;
  /** Longest wait between attempts while the database is unreachable. */
  maxBackoffMs?: number;
  /** Repeated log lines of one kind: at most one per this many milliseconds. */
  logWindowMs?: number;
}

interface DeadLetter {
  requestId: string;
  record: string;
  reason: string;
}

/** What a write attempt left behind: records not written because the database is unreachable. */
interface Outcome {
  unwritten: UsageRow[];
  error?: unknown;
}

const quiet: UsageLogger = { error: () => {}, warn: () => {} };

const errorKind = (error: unknown): string => {
  let current: unknown = error;
  for (let depth = 0; depth < 3 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') return String(code).slice(0, 32);
    current = (current as { cause?: unknown }).cause;
  }
  return current instanceof Error ? current.name.slice(0, 32) : 'unknown';
};

/**
 * Writes usage records behind the response, in batches. `record` only queues; a timer and a
 * size threshold flush; `close` flushes what is left, so a graceful stop loses nothing.
 * The same flush stamps `last_used_at` on the keys that were used.
 *
 * A record is made storable when it is queued (storable.ts). A batch the database refuses is
 * split in halves until the records it will not take are found; those go to
 * `usage_dead_letters` (or, failing that, the dead-letter file) and the rest is written. When
 * the database does not answer at all, nothing is set aside: the batch waits and is tried again
 * with a growing back-off.
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
  readonly #intervalMs: number;
  readonly #maxBackoffMs: number;
  readonly #logger: UsageLogger;
  readonly #throttle: LogThrottle;
  readonly #deadLetterFile: string | undefined;
  /** While the database is unreachable: no attempt before this time (ms), and the current wait. */
  #retryAt = 0;
  #backoffMs = 0;
  /** Records queued since start (written or not); a stop waits until it stops moving. */
  recorded = 0;
  /** Records written since start; for tests and metrics. */
  written = 0;
  /** Records the database would not take, set aside in usage_dead_letters or the dead-letter file. */
  deadLettered = 0;
  /** Records not stored anywhere: unwritten at close with no dead-letter file, or the file failed. */
  dropped = 0;

  constructor(db: Db, options: UsageWriterOptions = {}) {
    this.#db = db;
    this.#batchSize = options.batchSize ?? 500;
    this.#intervalMs = options.intervalMs ?? 500;
    this.#maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.#logger = options.logger ?? quiet;
    this.#throttle = new LogThrottle({ windowMs: options.logWindowMs ?? 60_000 });
    this.#deadLetterFile = options.deadLetterFile;
    this.#timer = setInterval(() => void this.flush(), this.#intervalMs);
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
    this.recorded += 1;
    this.#queue.push(storableRow(row));
    if (this.#queue.length === this.#batchSize) void this.flush();
  }

  /** Writes everything queued so far; resolves when it is in the database (or waiting out a back-off). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing
      .then(() => this.#drain())
      .catch((error) => this.#log('error', `drain:${errorKind(error)}`, { err: error }, 'usage writer failed'));
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      if (!this.#closed && Date.now() < this.#retryAt) return;
      const batch = this.#queue.splice(0, this.#batchSize);
      this.#writing = batch;
      let outcome: Outcome;
      try {
        outcome = await this.#store(batch);
      } finally {
        this.#writing = [];
      }
      const { unwritten, error } = outcome;
      if (unwritten.length === 0) {
        this.#backoffMs = 0;
        this.#retryAt = 0;
        // Let waiting requests run before the next batch (matters when the database shares this thread).
        if (this.#queue.length > 0) await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      if (this.#closed) {
        await this.#toFile(
          unwritten.map((row) => this.#letter(row, `database unreachable at shutdown: ${errorReason(error)}`)),
        );
        continue;
      }
      // Put the records back, in order, and wait before trying again rather than lose them.
      this.#queue.unshift(...unwritten);
      this.#backoffMs = Math.min(Math.max(this.#backoffMs * 2, this.#intervalMs), this.#maxBackoffMs);
      this.#retryAt = Date.now() + this.#backoffMs;
      this.#log(
        'error',
        `retry:${errorKind(error)}`,
        { err: error, pending: this.#queue.length, retryInMs: this.#backoffMs },
        'usage records could not be written; the database did not answer, will retry',
      );
      return;
    }
  }

  /**
   * Writes the batch; if the database refuses it but answers, halves it until the records it
   * refuses alone are found and set aside. Returns what is left unwritten because the database
   * stopped answering, in order.
   */
  async #store(batch: UsageRow[]): Promise<Outcome> {
    try {
      await this.#write(batch);
      this.written += batch.length;
      return { unwritten: [] };
    } catch (error) {
      if (!(await this.#answers())) return { unwritten: batch, error };
      const [only] = batch;
      if (batch.length === 1 && only) {
        await this.#deadLetter(only, error);
        return { unwritten: [] };
      }
      const middle = Math.ceil(batch.length / 2);
      const first = await this.#store(batch.slice(0, middle));
      if (first.unwritten.length > 0)
        return { unwritten: [...first.unwritten, ...batch.slice(middle)], error: first.error };
      return this.#store(batch.slice(middle));
    }
  }

  /** Whether the database answers at all: tells a refused record from an unreachable database. */
  async #answers(): Promise<boolean> {
    try {
      await this.#db.execute(sql`select 1`);
      return true;
    } catch {
      return false;
    }
  }

  #letter(row: UsageRow, reason: string): DeadLetter {
    return {
      requestId: storableText(String(row.requestId ?? ''), 200),
      record: deadLetterJson(row),
      reason: storableText(reason, 1000),
    };
  }

  async #deadLetter(row: UsageRow, error: unknown): Promise<void> {
    const letter = this.#letter(row, errorReason(error));
    try {
      await this.#db.insert(usageDeadLetters).values(letter);
      this.deadLettered += 1;
      this.#log(
        'error',
        `dead-letter:${errorKind(error)}`,
        {
          deadLettered: this.deadLettered,
          sample: { requestId: truncate(letter.requestId, 100), reason: truncate(letter.reason, 300) },
        },
        'usage record refused by the database; set aside in usage_dead_letters, the rest of its batch written',
      );
    } catch (insertError) {
      this.#log(
        'error',
        `dead-letter-insert:${errorKind(insertError)}`,
        { err: insertError },
        'usage_dead_letters refused a record too; writing it to the dead-letter file',
      );
      await this.#toFile([letter]);
    }
  }

  /** Last resort: one JSON line per record in the data directory. */
  async #toFile(letters: DeadLetter[]): Promise<void> {
    const failedAt = new Date().toISOString();
    try {
      if (!this.#deadLetterFile) throw new Error('no dead-letter file configured');
      await mkdir(path.dirname(this.#deadLetterFile), { recursive: true });
      await appendFile(
        this.#deadLetterFile,
        letters.map((letter) => `${JSON.stringify({ failedAt, ...letter })}\n`).join(''),
        { mode: 0o600 },
      );
      this.deadLettered += letters.length;
      this.#log(
        'error',
        'dead-letter-file',
        {
          count: letters.length,
          file: this.#deadLetterFile,
          sample: {
            requestId: truncate(letters[0]?.requestId ?? '', 100),
            reason: truncate(letters[0]?.reason ?? '', 300),
          },
        },
        'usage records written to the dead-letter file',
      );
    } catch (error) {
      this.dropped += letters.length;
      this.#log('error', `dropped:${errorKind(error)}`, { err: error, dropped: letters.length }, 'usage records lost');
    }
  }

  #log(level: 'error' | 'warn', kind: string, details: object, message: string): void {
    const suppressed = this.#throttle.admit(kind);
    if (suppressed === undefined) return;
    this.#logger[level](suppressed > 0 ? { ...details, suppressed } : details, message);
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
        cache_write_tokens: row.cacheWriteTokens ?? 0,
        cache_write_1h_tokens: row.cacheWrite1hTokens ?? 0,
        reasoning_tokens: row.reasoningTokens ?? 0,
        usage_source: row.usageSource ?? null,
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
