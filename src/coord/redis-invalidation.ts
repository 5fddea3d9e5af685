import { randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { LogThrottle } from '../log-throttle.ts';
import type { Db } from '../store/db.ts';
import { changes, settings } from '../store/schema.ts';
import { ChangeFeed, type ChangeFeedOptions, type ChangeMessage } from './change-feed.ts';
import type { Change } from './invalidation.ts';

/**
 * Pub/sub channels are global to a Redis server (not per database number), and row ids repeat
 * from one database to another: each database gets a channel of its own, named in `settings`,
 * so that deployments sharing a Redis never take each other's changes for their own.
 */
const CHANNEL_SETTING = 'invalidation_channel';
/** How long a PUBLISH may wait for Redis to come back. */
const PUBLISH_WAIT_MS = 5000;
/** How long start-up waits for the first subscription before going on without it. */
const CONNECT_WAIT_MS = 3000;

/**
 * Invalidation across instances with Redis pub/sub: a change is stored in the `changes` table,
 * then PUBLISHed; each instance SUBSCRIBEs on a connection of its own. While that connection is
 * down the instance says so loudly and reads the table every 250 ms; when it is back, it reads
 * what it missed and says so. A PUBLISH that fails is not the publisher's failure: the row is
 * stored, and the others read it from the table.
 */
export class RedisInvalidation extends ChangeFeed {
  readonly #subscriber: Redis;
  /**
   * While Redis is away a PUBLISH waits in ioredis's queue and goes out when the connection returns
   * (within PUBLISH_WAIT_MS, else it is dropped and the table serves): so a change made while this
   * publisher is still reconnecting but the others are back is not left to their slow poll.
   */
  readonly #publisher: Redis;
  /** Set once a loss has been reported, so that the return is reported too. */
  #lost = false;
  #lastError = '';
  /** Resolves start-up's wait for the first subscription. */
  #onSubscribed: () => void = () => {};
  readonly #throttle = new LogThrottle();
  readonly #channel: string;

  private constructor(db: Db, url: string, channel: string, options: ChangeFeedOptions) {
    super(db, options);
    this.#channel = channel;
    // Resubscribing is ours to do, so that the table is read only once the subscription holds.
    this.#subscriber = new Redis(url, { lazyConnect: true, autoResubscribe: false, maxRetriesPerRequest: null });
    this.#publisher = new Redis(url, { lazyConnect: true, commandTimeout: PUBLISH_WAIT_MS });
    this.#subscriber.on('ready', () => void this.#subscribe());
    this.#subscriber.on('close', () => this.#down());
    this.#subscriber.on('error', (error: Error) => {
      this.#lastError = error.message;
    });
    this.#subscriber.on('message', (_channel: string, payload: string) => this.receive(payload));
    // Errors are reported through the subscriber's state and failed PUBLISHes; this keeps ioredis quiet.
    this.#publisher.on('error', () => {});
  }

  /** Connects; if Redis cannot be reached yet, starts without it (polling) and keeps trying. */
  static async start(db: Db, url: string, options: ChangeFeedOptions = {}): Promise<RedisInvalidation> {
    const self = new RedisInvalidation(db, url, await channelOf(db), options);
    await self.open();
    self.#publisher.connect().catch(() => {});
    const subscribed = new Promise<boolean>((resolve) => {
      self.#onSubscribed = () => resolve(true);
      setTimeout(() => resolve(false), CONNECT_WAIT_MS).unref();
    });
    self.#subscriber.connect().catch(() => {});
    if (!(await subscribed)) {
      self.#lost = true;
      self.logger.error(
        { reason: self.#lastError },
        'Redis unreachable at start: changes reach this instance by reading the changes table every 250 ms until it is',
      );
    }
    return self;
  }

  async #subscribe(): Promise<void> {
    try {
      await this.#subscriber.subscribe(this.#channel);
    } catch {
      return; // The connection dropped again; the next 'ready' retries.
    }
    await this.pushUp();
    this.#onSubscribed();
    if (this.#lost) {
      this.#lost = false;
      this.logger.warn({}, 'Redis is back: invalidation by pub/sub resumed; changes missed meanwhile were read');
    }
  }

  #down(): void {
    if (!this.pushing) return;
    this.pushDown();
    this.#lost = true;
    this.logger.error(
      { reason: this.#lastError },
      'Redis lost: changes reach this instance by reading the changes table every 250 ms until it returns',
    );
  }

  protected async append(change: Change): Promise<number> {
    const [row] = await this.db.insert(changes).values(change).returning({ id: changes.id });
    const id = Number(row?.id);
    const message: ChangeMessage = { ...change, id, origin: this.origin };
    const sent = this.#publisher.publish(this.#channel, JSON.stringify(message)).catch((error: Error) => {
      const suppressed = this.#throttle.admit('publish');
      if (suppressed === undefined) return;
      this.logger.warn(
        { reason: error.message, suppressed },
        'Redis PUBLISH failed: other instances read this change from the changes table instead',
      );
    });
    // The admin API waits for Redis when it is there (a fraction of a millisecond), never when it is not.
    if (this.#publisher.status === 'ready') await sent;
    return id;
  }

  override async close(): Promise<void> {
    // Closing is not losing Redis: nothing to report.
    this.#subscriber.removeAllListeners('close');
    this.#subscriber.disconnect();
    this.#publisher.disconnect();
    await super.close();
  }
}

async function channelOf(db: Db): Promise<string> {
  const name = `tollgate:changes:${randomBytes(8).toString('hex')}`;
  await db.insert(settings).values({ key: CHANNEL_SETTING, value: name }).onConflictDoNothing();
  const [row] = await db.select({ value: settings.value }).from(settings).where(eq(settings.key, CHANNEL_SETTING));
  return row?.value ?? name;
}
