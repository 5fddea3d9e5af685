import path from 'node:path';
import { sql } from 'drizzle-orm';
import { LogThrottle } from '../../log-throttle.ts';
import { errorReason } from '../../safe-error.ts';
import type { Db } from '../../store/db.ts';
import { errorKind, failureKind } from '../../store/db-failure.ts';
import type { UsageRow } from '../../store/schema.ts';
import { DeadLetters } from './dead-letters.ts';
import type { SpendField } from './spool-spend.ts';
import { storableRow } from './storable.ts';
import { insertUsage, Stalled, timeout } from './usage-insert.ts';
import { type SpoolFile, UsageSpool } from './usage-spool.ts';

export { RECORD_COLUMNS } from './usage-insert.ts';

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
  /**
   * Where records wait on disk while the database is unreachable: a UsageSpool, or null for
   * none (records then wait in memory only). By default `usage-spool/` beside the dead-letter
   * file, that is in the data directory; none without a dead-letter file.
   */
  spool?: UsageSpool | null;
  /** Records held in memory at most, waiting for the database or the spool; past it they are dropped. */
  maxQueued?: number;
  /** A write that has not finished after this long is given up on (it may still commit). */
  writeTimeoutMs?: number;
  /** Longest wait between attempts while the database is unreachable. */
  maxBackoffMs?: number;
  /** Repeated log lines of one kind: at most one per this many milliseconds. */
  logWindowMs?: number;
}

/**
 * What a write attempt left behind: records not written because the database is unreachable,
 * and an attempt that did not finish in time, whose records wait for it to settle.
 */
interface Outcome {
  unwritten: UsageRow[];
  /** The database did not answer (or not in time): stop and back off. */
  down?: boolean;
  error?: unknown;
  stalled?: Stalled;
}

/** A spooled file being written to the database, batch by batch. */
interface Replay {
  file: SpoolFile;
  batches: Generator<UsageRow[]>;
}

const quiet: UsageLogger = { error: () => {}, warn: () => {} };
const PROBE_TIMEOUT_MS = 2000;
/** At close, how long the spool may be written back before the rest is left to the next process. */
const CLOSE_REPLAY_MS = 10_000;

/**
 * Writes usage records behind the response, in batches. `record` only queues; a timer and a
 * size threshold flush; `close` flushes what is left, so a graceful stop loses nothing.
 * The same flush stamps `last_used_at` on the keys that were used.
 *
 * A record is made storable when it is queued (storable.ts). A batch the database refuses is
 * split in halves until the records it will not take are found; those go to
 * `usage_dead_letters` (or, failing that, the dead-letter file) and the rest is written.
 *
 * When the database does not answer, nothing is set aside: records go to the spool on disk
 * (fsync'd, bounded; usage-spool.ts) at every tick, the database is asked again with a growing
 * back-off, and once it answers the spool is written back, between fresh batches, leaving out
 * records already written. Without a spool they wait in memory, up to `maxQueued`. A record
 * whose write may have committed (the connection broke, or the write timed out) is only
 * written again once that write has settled, and then with the rows already there left out:
 * nothing is written twice.
 */
export class UsageWriter {
  #queue: UsageRow[] = [];
  #flushing: Promise<void> = Promise.resolve();
  #closed = false;
  /** The batch being written now: no longer queued, not yet visible in the database. */
  #writing: UsageRow[] = [];
  /** Batches whose write timed out and has not settled: they may still commit. */
  readonly #stalled = new Set<UsageRow[]>();
  /** Records a failed write may have committed: written again only with the rows already there left out. */
  readonly #uncertain = new WeakSet<UsageRow>();
  readonly #spool: UsageSpool | undefined;
  #replay: Replay | undefined;
  /** Spool files whose last replay write timed out and has not settled. */
  readonly #busy = new WeakSet<SpoolFile>();
  /** Records being appended to the spool: counted by pendingSpend until the spool counts them. */
  #spooling: UsageRow[] = [];
  /** At close, the spool is written back until then (ms). */
  #closeReplayUntil = 0;
  readonly #timer: NodeJS.Timeout;
  readonly #db: Db;
  readonly #batchSize: number;
  readonly #intervalMs: number;
  readonly #maxQueued: number;
  readonly #writeTimeoutMs: number;
  readonly #maxBackoffMs: number;
  readonly #logger: UsageLogger;
  readonly #throttle: LogThrottle;
  readonly #letters: DeadLetters;
  /** While the database is unreachable: since when, no attempt before `#retryAt` (ms), and the current wait. */
  #downSince: number | undefined;
  #retryAt = 0;
  #backoffMs = 0;
  #lastError: unknown;
  /** Records queued since start (written or not); a stop waits until it stops moving. */
  recorded = 0;
  /** Records written since start; for tests and metrics. */
  written = 0;
  #dropped = 0;

  constructor(db: Db, options: UsageWriterOptions = {}) {
    this.#db = db;
    this.#batchSize = options.batchSize ?? 500;
    this.#intervalMs = options.intervalMs ?? 250;
    this.#maxQueued = options.maxQueued ?? 50_000;
    this.#writeTimeoutMs = options.writeTimeoutMs ?? 10_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 5000;
    this.#logger = options.logger ?? quiet;
    this.#throttle = new LogThrottle({ windowMs: options.logWindowMs ?? 60_000 });
    this.#letters = new DeadLetters(db, options.deadLetterFile, (level, kind, details, message) =>
      this.#log(level, kind, details, message),
    );
    this.#spool =
      options.spool === undefined
        ? options.deadLetterFile
          ? new UsageSpool({ dir: path.join(path.dirname(options.deadLetterFile), 'usage-spool') })
          : undefined
        : (options.spool ?? undefined);
    if (this.#spool?.backlog) {
      this.#logger.warn(
        { records: this.#spool.records, bytes: this.#spool.bytes, dir: this.#spool.dir },
        'usage records spooled while the database was unreachable are being written',
      );
    }
    if (this.#spool?.unreadable) {
      this.#logger.error(
        { unreadable: this.#spool.unreadable, dir: this.#spool.dir },
        'lines of the usage spool could not be read back (a write cut short by a crash); those records are lost',
      );
    }
    this.#timer = setInterval(() => void this.flush(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Records the database would not take, set aside in usage_dead_letters or the dead-letter file. */
  get deadLettered(): number {
    return this.#letters.deadLettered;
  }

  /** Records not stored anywhere: past the memory bound with the spool full or failing, or the dead-letter file failed. */
  get dropped(): number {
    return this.#dropped + this.#letters.dropped;
  }

  /** Records waiting in memory. */
  get pending(): number {
    return this.#queue.length;
  }

  /** Records waiting in the spool on disk for the database. */
  get spooled(): number {
    return this.#spool?.records ?? 0;
  }

  /** Bytes of the spool on disk. */
  get spoolBytes(): number {
    return this.#spool?.bytes ?? 0;
  }

  /** Whether the last attempt found the database unreachable. */
  get unreachable(): boolean {
    return this.#downSince !== undefined;
  }

  /**
   * USD of records not yet committed (queued, being written, in the spool) that belong to the
   * scope, all time and since `since` (ms). Spend counters add this to what the database says,
   * instead of waiting for a flush on the request path. A batch that commits between the
   * database read and this call is counted twice: the error is on the safe side.
   */
  pendingSpend(field: SpendField, id: string, since: number | null) {
    const spooled = this.#spool?.spend.of(field, id, since);
    let allTime = spooled?.allTime ?? 0;
    let recent = spooled?.since ?? 0;
    for (const rows of [this.#writing, this.#spooling, this.#queue, ...this.#stalled]) {
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
    if (this.#queue.length >= this.#maxQueued) {
      this.#dropped += 1;
      this.#log(
        'error',
        'dropped:memory',
        { dropped: this.dropped, maxQueued: this.#maxQueued },
        'usage record dropped: the database is unreachable and the spool cannot take more',
      );
      return;
    }
    this.#queue.push(storableRow(row));
    if (this.#queue.length === this.#batchSize && this.#downSince === undefined) void this.flush();
  }

  /** Writes everything queued so far; resolves when it is in the database (or in the spool, or waiting out a back-off). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing
      .then(() => this.#drain())
      .catch((error) => this.#log('error', `drain:${errorKind(error)}`, { err: error }, 'usage writer failed'));
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    if (this.#downSince !== undefined && !(await this.#reachable())) {
      await this.#toSpool();
      return;
    }
    // Fresh batches and spooled ones take turns, so that neither waits for the other to run dry.
    let replayTurn = false;
    let replayIdle = false;
    for (;;) {
      // At close, the spool is written back for a while at most; the rest waits for the next process.
      const replayable =
        !replayIdle && !!this.#spool?.backlog && !(this.#closed && Date.now() > this.#closeReplayUntil);
      if (this.#queue.length === 0 && !replayable) return;
      let outcome: Outcome | undefined;
      if (replayable && (replayTurn || this.#queue.length === 0)) {
        outcome = await this.#replayBatch();
        // Nothing to replay now (every file waits for a write to settle).
        if (!outcome) replayIdle = true;
      } else {
        const batch = this.#queue.splice(0, this.#batchSize);
        this.#writing = batch;
        try {
          outcome = await this.#store(batch, false);
        } finally {
          this.#writing = [];
        }
        // Back in front, in order, before the spool or memory takes them.
        this.#queue.unshift(...outcome.unwritten);
        if (outcome.stalled) this.#waitFor(outcome.stalled);
      }
      replayTurn = !replayTurn;
      if (!outcome) continue;
      if (outcome.down) {
        this.#wentDown(outcome.error);
        await this.#toSpool();
        return;
      }
      this.#cameBack();
      // Let waiting requests run before the next batch (matters when the database shares this thread).
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Past the back-off (or at close), whether the database answers again. */
  async #reachable(): Promise<boolean> {
    if (!this.#closed && Date.now() < this.#retryAt) return false;
    if (await this.#answers()) return true;
    this.#wentDown(new Error('the database does not answer'));
    return false;
  }

  /**
   * Writes the next batch of the spool, with the rows already written left out; undefined when
   * nothing is left to replay now. A file is removed once all its records are written.
   */
  async #replayBatch(): Promise<Outcome | undefined> {
    const spool = this.#spool;
    if (!spool?.backlog) return undefined;
    for (;;) {
      if (!this.#replay) {
        // A file whose last write timed out waits for it to settle (it may yet commit).
        const file = (await spool.take()).find((waiting) => !this.#busy.has(waiting));
        if (!file) return undefined;
        this.#replay = { file, batches: spool.batches(file, this.#batchSize) };
      }
      const { file, batches } = this.#replay;
      const next = batches.next();
      if (next.done) {
        await spool.finished(file);
        this.#replay = undefined;
        continue;
      }
      const rows = next.value;
      const outcome = await this.#store(rows, true);
      if (!outcome.down) {
        spool.written(file, rows);
        return outcome;
      }
      // Read the file again from its first record not known to be written, next time.
      batches.return(undefined);
      this.#replay = undefined;
      const stalled = outcome.stalled;
      if (stalled) {
        this.#busy.add(file);
        const settle = (committed: boolean) => {
          this.#busy.delete(file);
          if (committed) spool.written(file, rows);
        };
        stalled.attempt.then(
          () => settle(true),
          () => settle(false),
        );
      }
      // The records are in the file still: nothing to spool, only to wait.
      return { unwritten: [], error: outcome.error, stalled, down: true };
    }
  }

  /**
   * Writes the batch; if the database refuses it but answers, halves it until the records it
   * refuses alone are found and set aside. Returns what is left unwritten because the database
   * stopped answering, in order, and a write that did not finish in time.
   */
  async #store(batch: UsageRow[], skipWritten: boolean): Promise<Outcome> {
    const uncertain = skipWritten || batch.some((row) => this.#uncertain.has(row));
    const attempt = insertUsage(this.#db, batch, uncertain);
    try {
      await timeout(attempt, this.#writeTimeoutMs, () => new Stalled(batch, attempt, this.#writeTimeoutMs));
      this.written += batch.length;
      return { unwritten: [] };
    } catch (error) {
      if (error instanceof Stalled) return { unwritten: [], stalled: error, error, down: true };
      const kind = failureKind(error);
      if (kind === 'unreachable' || (kind === 'unknown' && !(await this.#answers()))) {
        for (const row of batch) this.#uncertain.add(row);
        return { unwritten: batch, error, down: true };
      }
      const [only] = batch;
      if (batch.length === 1 && only) {
        await this.#letters.refused(only, error);
        return { unwritten: [] };
      }
      const middle = Math.ceil(batch.length / 2);
      const first = await this.#store(batch.slice(0, middle), skipWritten);
      if (first.down) return { ...first, unwritten: [...first.unwritten, ...batch.slice(middle)] };
      return this.#store(batch.slice(middle), skipWritten);
    }
  }

  /**
   * Holds a timed-out write's records in memory until it settles: committed, they are written;
   * failed, they are queued again as records that may have been written.
   */
  #waitFor(stalled: Stalled): void {
    const { rows, attempt } = stalled;
    this.#stalled.add(rows);
    attempt.then(
      () => {
        if (!this.#stalled.delete(rows)) return;
        this.written += rows.length;
      },
      () => {
        if (!this.#stalled.delete(rows)) return;
        for (const row of rows) this.#uncertain.add(row);
        this.#queue.unshift(...rows);
      },
    );
  }

  /** Whether the database answers at all: tells a refused record from an unreachable database. */
  async #answers(): Promise<boolean> {
    try {
      await timeout(this.#db.execute(sql`select 1`), PROBE_TIMEOUT_MS, () => new Error('probe timed out'));
      return true;
    } catch {
      return false;
    }
  }

  #wentDown(error: unknown): void {
    this.#downSince ??= Date.now();
    this.#lastError = error;
    this.#backoffMs = Math.min(Math.max(this.#backoffMs * 2, this.#intervalMs), this.#maxBackoffMs);
    this.#retryAt = Date.now() + this.#backoffMs;
    this.#log(
      'error',
      `retry:${errorKind(error)}`,
      {
        err: error,
        pending: this.#queue.length,
        spooled: this.spooled,
        retryInMs: this.#backoffMs,
      },
      this.#spool
        ? 'usage records could not be written: the database did not answer; they wait in the spool, will retry'
        : 'usage records could not be written: the database did not answer; they wait in memory, will retry',
    );
  }

  #cameBack(): void {
    if (this.#downSince === undefined) return;
    this.#logger.warn(
      { unreachableMs: Date.now() - this.#downSince, spooled: this.spooled },
      'the database answers again: usage records are being written, the spool first',
    );
    this.#downSince = undefined;
    this.#backoffMs = 0;
    this.#retryAt = 0;
  }

  /**
   * Moves what waits in memory to the spool (fsync'd), as much as fits under its bound; the
   * rest stays in memory. Without a spool, at close, it goes to the dead-letter file.
   */
  async #toSpool(): Promise<void> {
    if (this.#closed) {
      // Writes still pending at exit die with the process: keep their records, written once later.
      for (const rows of this.#stalled) this.#queue.unshift(...rows);
      this.#stalled.clear();
    }
    if (this.#queue.length === 0) return;
    if (!this.#spool) {
      if (this.#closed)
        await this.#letters.unwritten(
          this.#queue.splice(0),
          `database unreachable at shutdown: ${errorReason(this.#lastError)}`,
        );
      return;
    }
    const rows = this.#queue.splice(0);
    this.#spooling = rows;
    let taken = 0;
    try {
      taken = await this.#spool.append(rows);
    } catch (error) {
      this.#log(
        'error',
        `spool:${errorKind(error)}`,
        { err: error },
        'usage records could not be written to the spool',
      );
    } finally {
      this.#spooling = [];
    }
    if (taken === rows.length) return;
    this.#queue.unshift(...rows.slice(taken));
    this.#log(
      'error',
      'spool-full',
      { bytes: this.#spool.bytes, maxBytes: this.#spool.maxBytes, inMemory: this.#queue.length },
      `the usage spool takes no more: records wait in memory, and past ${this.#maxQueued} are dropped`,
    );
    if (this.#closed) {
      this.#dropped += this.#queue.length;
      this.#log('error', 'dropped:close', { dropped: this.#queue.length }, 'usage records lost at shutdown');
      this.#queue = [];
    }
  }

  #log(level: 'error' | 'warn', kind: string, details: object, message: string): void {
    const suppressed = this.#throttle.admit(kind);
    if (suppressed === undefined) return;
    this.#logger[level](suppressed > 0 ? { ...details, suppressed } : details, message);
  }

  /**
   * Writes what is queued and what the spool holds while the database answers; what cannot be
   * written goes to the spool (replayed by the next process on this data directory) or, without
   * one, to the dead-letter file. A write that hangs is given up on after the write timeout.
   */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#closed = true;
    this.#closeReplayUntil = Date.now() + CLOSE_REPLAY_MS;
    await this.flush();
    if (this.#stalled.size > 0) await this.#toSpool();
    await this.#spool?.close();
  }
}
