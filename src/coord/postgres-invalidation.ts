import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { type Db, rawRows } from '../store/db.ts';
import { changes } from '../store/schema.ts';
import { ChangeFeed, type ChangeFeedOptions } from './change-feed.ts';
import type { Change } from './invalidation.ts';

const CHANNEL = 'tollgate_changes';

/**
 * Invalidation across instances on PostgreSQL alone: the `changes` row and its NOTIFY go in one
 * statement (so one commit), and each instance LISTENs on a connection of its own. The driver
 * re-LISTENs after a lost connection and says so, and the table is read then for what was
 * missed; a poll every couple of seconds covers a notification lost any other way.
 */
export class PostgresInvalidation extends ChangeFeed {
  readonly #client: postgres.Sql;
  #listened = false;

  private constructor(db: Db, databaseUrl: string, options: ChangeFeedOptions) {
    super(db, options);
    // Only the LISTEN connection is ever opened; it reconnects within 2 s of the database returning.
    this.#client = postgres(databaseUrl, {
      max: 1,
      onnotice: () => {},
      backoff: (attempt) => Math.min(0.1 * 2 ** attempt, 2),
    });
  }

  static async start(db: Db, databaseUrl: string, options: ChangeFeedOptions = {}): Promise<PostgresInvalidation> {
    const self = new PostgresInvalidation(db, databaseUrl, options);
    await self.open();
    await self.#client.listen(
      CHANNEL,
      (payload) => self.receive(payload),
      () => void self.#onListen(),
    );
    return self;
  }

  async #onListen(): Promise<void> {
    const again = this.#listened;
    this.#listened = true;
    await this.pushUp();
    if (again) this.logger.warn({}, 'LISTEN on PostgreSQL resumed after a lost connection; missed changes were read');
  }

  protected async append(change: Change): Promise<number> {
    const [row] = await rawRows<{ id: number | string }>(
      this.db,
      sql`with added as (
            insert into ${changes} (kind, ref) values (${change.kind}, ${change.ref}) returning id, kind, ref
          )
          select id, pg_notify(${CHANNEL}, json_build_object('id', id, 'kind', kind, 'ref', ref, 'origin', ${this.origin}::text)::text)
          from added`,
    );
    return Number(row?.id);
  }

  override async close(): Promise<void> {
    await this.#client.end({ timeout: 1 });
    await super.close();
  }
}
