import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { UsageRow } from '../../store/schema.ts';
import { SpoolSpend } from './spool-spend.ts';

/**
 * 1 GiB: about 1.5 million usage records (a record is about 700 bytes of JSON), 25 minutes of
 * outage at 1,000 requests a second.
 */
export const DEFAULT_SPOOL_MAX_BYTES = 1024 * 1024 * 1024;

export interface UsageSpoolOptions {
  /** The spool's directory, `<data dir>/usage-spool`. */
  dir: string;
  /** Bytes held on disk at most, waiting files included; records past it are refused. */
  maxBytes?: number;
  /** This process's id; tests pretend to be another process. */
  pid?: number;
  /** Whether a process is running; tests pretend a process died. */
  alive?: (pid: number) => boolean;
}

/** One file waiting to be written to the database, claimed by this process. */
export interface SpoolFile {
  path: string;
  bytes: number;
  /** Records of the file already written (when a replay stopped halfway). */
  done: number;
}

const FILE = /^(?:active|replay)-(\d+)-[0-9a-z-]+\.jsonl$/;
/** Files held by the spools of this process: no other spool of this process claims them. */
const HELD = new Set<string>();

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parses one spooled line back into a row; undefined for a torn or foreign line. */
export function parseSpooled(line: string): UsageRow | undefined {
  try {
    const row = JSON.parse(line) as UsageRow & { time: string };
    if (typeof row !== 'object' || row === null || typeof row.requestId !== 'string') return undefined;
    const time = new Date(row.time);
    if (Number.isNaN(time.getTime())) return undefined;
    return { ...row, time };
  } catch {
    return undefined;
  }
}

/** The lines of a file, read in 1 MiB slices so that no string grows past that. */
function* linesOf(file: string): Generator<string> {
  const fd = openSync(file, 'r');
  try {
    const buffer = Buffer.alloc(1024 * 1024);
    let rest = '';
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, null);
      if (read === 0) break;
      const lines = (rest + buffer.subarray(0, read).toString('utf8')).split('\n');
      rest = lines.pop() ?? '';
      for (const text of lines) if (text) yield text;
    }
    if (rest) yield rest;
  } finally {
    closeSync(fd);
  }
}

/**
 * Usage records that could not reach the database, on disk in the data directory until it
 * returns: JSON Lines, appended in batches and fsync'd before `append` resolves, so a record
 * spooled survives `kill -9` and a power cut.
 *
 * Each spool appends to its own `active-<pid>-<unique>.jsonl`. To write the records to the
 * database, the writer `takes` the spool: the active file is renamed `replay-<pid>-<unique>.jsonl`
 * (later records start a new active file), and so are the files of processes that are no
 * longer running — a rename only one process can win, so two processes sharing the directory
 * never replay the same file. A replayed file is removed once all its records are written; one
 * whose replay was interrupted is claimed again by the next process, and its records written
 * again are skipped by the writer (they carry their request id).
 *
 * `spend` keeps the cost of the spooled records per key, user, project and organisation, so
 * that spend counters loaded meanwhile still count them.
 */
export class UsageSpool {
  readonly dir: string;
  readonly maxBytes: number;
  readonly spend = new SpoolSpend();
  readonly #pid: number;
  readonly #alive: (pid: number) => boolean;
  /** The file this spool appends to. */
  readonly #active: string;
  #handle: FileHandle | undefined;
  #activeBytes = 0;
  #waiting: SpoolFile[] = [];
  /** Records on disk not yet written to the database. */
  records = 0;
  /** Lines of claimed files that could not be read back (a write torn by a crash). */
  unreadable = 0;

  constructor(options: UsageSpoolOptions) {
    this.dir = options.dir;
    this.maxBytes = options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES;
    this.#pid = options.pid ?? process.pid;
    this.#alive = options.alive ?? running;
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.#active = this.#newName('active');
    HELD.add(this.#active);
    this.#claimLeftovers();
  }

  /** Bytes on disk: the active file and the files waiting to be replayed. */
  get bytes(): number {
    return this.#activeBytes + this.#waiting.reduce((sum, file) => sum + file.bytes, 0);
  }

  /** Whether records wait on disk for the database. */
  get backlog(): boolean {
    return this.records > 0 || this.#waiting.length > 0;
  }

  /**
   * Appends the rows, as many as fit under the bound, and syncs them to disk. Resolves with how
   * many were taken (a prefix of `rows`); throws when the disk refuses (nothing taken then).
   */
  async append(rows: UsageRow[]): Promise<number> {
    let room = this.maxBytes - this.bytes;
    const lines: string[] = [];
    for (const row of rows) {
      const line = `${JSON.stringify(row)}\n`;
      const size = Buffer.byteLength(line);
      if (size > room) break;
      room -= size;
      lines.push(line);
    }
    if (lines.length === 0) return 0;
    const data = lines.join('');
    this.#handle ??= await open(this.#active, 'a', 0o600);
    await this.#handle.appendFile(data);
    await this.#handle.datasync();
    this.#activeBytes += Buffer.byteLength(data);
    this.records += lines.length;
    for (let i = 0; i < lines.length; i++) this.spend.add(rows[i] as UsageRow);
    return lines.length;
  }

  /**
   * The files to replay, oldest first: those already claimed, the active file (closed and
   * renamed, so appends go to a new one) and any left by processes that are no longer running.
   */
  async take(): Promise<SpoolFile[]> {
    if (this.#handle) {
      await this.#handle.close();
      this.#handle = undefined;
      const claimed = this.#newName('replay');
      HELD.add(claimed);
      await rename(this.#active, claimed);
      this.#waiting.push({ path: claimed, bytes: this.#activeBytes, done: 0 });
      this.#activeBytes = 0;
    }
    this.#claimLeftovers();
    return [...this.#waiting];
  }

  /**
   * A claimed file's records in batches of at most `size` (the rows of lines that parse),
   * skipping those already written.
   */
  *batches(file: SpoolFile, size: number): Generator<UsageRow[]> {
    let batch: UsageRow[] = [];
    let index = 0;
    for (const text of linesOf(file.path)) {
      const row = parseSpooled(text);
      if (!row || index++ < file.done) continue;
      batch.push(row);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /** Marks these records of the file (the next ones in it) written to the database. */
  written(file: SpoolFile, rows: UsageRow[]): void {
    file.done += rows.length;
    this.records = Math.max(0, this.records - rows.length);
    for (const row of rows) this.spend.remove(row);
  }

  /** The file is written whole: removes it. */
  async finished(file: SpoolFile): Promise<void> {
    await rm(file.path, { force: true });
    HELD.delete(file.path);
    this.#waiting = this.#waiting.filter((waiting) => waiting !== file);
  }

  /** Closes the active file; what is on disk stays there for the next process (or spool) to replay. */
  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
    HELD.delete(this.#active);
    for (const file of this.#waiting) HELD.delete(file.path);
  }

  #newName(kind: 'active' | 'replay'): string {
    const unique = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    return path.join(this.dir, `${kind}-${this.#pid}-${unique}.jsonl`);
  }

  /**
   * Claims, by renaming them, the files of processes no longer running and those of this
   * process that no open spool holds (left by an earlier process with the same id, or by a
   * spool closed before); reads them once to count their records and spend.
   */
  #claimLeftovers(): void {
    for (const name of readdirSync(this.dir).sort()) {
      const owner = Number(FILE.exec(name)?.[1]);
      const from = path.join(this.dir, name);
      if (!Number.isInteger(owner) || HELD.has(from)) continue;
      if (owner !== this.#pid && this.#alive(owner)) continue;
      const to = this.#newName('replay');
      try {
        renameSync(from, to);
      } catch {
        continue; // another process claimed it first
      }
      HELD.add(to);
      const file: SpoolFile = { path: to, bytes: statSync(to).size, done: 0 };
      for (const text of linesOf(to)) {
        const row = parseSpooled(text);
        if (!row) {
          this.unreadable += 1;
          continue;
        }
        this.records += 1;
        this.spend.add(row);
      }
      this.#waiting.push(file);
    }
  }
}
