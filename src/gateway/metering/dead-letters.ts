import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { errorReason, truncate } from '../../safe-error.ts';
import type { Db } from '../../store/db.ts';
import { errorKind } from '../../store/db-failure.ts';
import { type UsageRow, usageDeadLetters } from '../../store/schema.ts';
import { deadLetterJson, storableText } from './storable.ts';

interface DeadLetter {
  requestId: string;
  record: string;
  reason: string;
}

/** How the usage writer logs: rate-limited by kind. */
export type DeadLetterLog = (level: 'error' | 'warn', kind: string, details: object, message: string) => void;

/**
 * Where usage records go that cannot be written as records: to the `usage_dead_letters` table
 * (a record the database refuses, with the reason), or, failing that, to a JSON Lines file in
 * the data directory. Counts what it set aside, and what it could not keep anywhere.
 */
export class DeadLetters {
  /** Records set aside in usage_dead_letters or the file. */
  deadLettered = 0;
  /** Records the file could not take either: lost. */
  dropped = 0;

  constructor(
    private readonly db: Db,
    private readonly file: string | undefined,
    private readonly log: DeadLetterLog,
  ) {}

  /** A record the database refused alone: to usage_dead_letters, or else to the file. */
  async refused(row: UsageRow, error: unknown): Promise<void> {
    const letter = this.#letter(row, errorReason(error));
    try {
      await this.db.insert(usageDeadLetters).values(letter);
      this.deadLettered += 1;
      this.log(
        'error',
        `dead-letter:${errorKind(error)}`,
        {
          deadLettered: this.deadLettered,
          sample: { requestId: truncate(letter.requestId, 100), reason: truncate(letter.reason, 300) },
        },
        'usage record refused by the database; set aside in usage_dead_letters, the rest of its batch written',
      );
    } catch (insertError) {
      this.log(
        'error',
        `dead-letter-insert:${errorKind(insertError)}`,
        { err: insertError },
        'usage_dead_letters refused a record too; writing it to the dead-letter file',
      );
      await this.#toFile([letter]);
    }
  }

  /** Records that could not be written at all (no spool, the database gone at shutdown): to the file. */
  async unwritten(rows: UsageRow[], reason: string): Promise<void> {
    if (rows.length > 0) await this.#toFile(rows.map((row) => this.#letter(row, reason)));
  }

  #letter(row: UsageRow, reason: string): DeadLetter {
    return {
      requestId: storableText(String(row.requestId ?? ''), 200),
      record: deadLetterJson(row),
      reason: storableText(reason, 1000),
    };
  }

  /** Last resort: one JSON line per record in the data directory. */
  async #toFile(letters: DeadLetter[]): Promise<void> {
    const failedAt = new Date().toISOString();
    try {
      if (!this.file) throw new Error('no dead-letter file configured');
      await mkdir(path.dirname(this.file), { recursive: true });
      await appendFile(this.file, letters.map((letter) => `${JSON.stringify({ failedAt, ...letter })}\n`).join(''), {
        mode: 0o600,
      });
      this.deadLettered += letters.length;
      this.log(
        'error',
        'dead-letter-file',
        {
          count: letters.length,
          file: this.file,
          sample: {
            requestId: truncate(letters[0]?.requestId ?? '', 100),
            reason: truncate(letters[0]?.reason ?? '', 300),
          },
        },
        'usage records written to the dead-letter file',
      );
    } catch (error) {
      this.dropped += letters.length;
      this.log('error', `dropped:${errorKind(error)}`, { err: error, dropped: letters.length }, 'usage records lost');
    }
  }
}
