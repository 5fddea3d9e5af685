import cluster from 'node:cluster';
import type { Logger } from 'pino';
import postgres from 'postgres';
import { PrimaryChannel } from '../cluster/ipc-channel.ts';
import type { Config } from '../config.ts';
import { TollgateError } from '../errors.ts';
import type { RateLimits } from '../store/schema.ts';
import { IpcLink } from './ipc-link.ts';
import { InMemoryRateLimiter, type RateDecision, type RateLimiter } from './rate-limiter.ts';
import { RedisLink } from './redis-link.ts';
import { SharedRateLimiter } from './shared-rate-limiter.ts';
import { SharedSpendLedger } from './shared-spend-ledger.ts';
import {
  type Headroom,
  InMemorySpendLedger,
  type LedgerCounters,
  type LimitedScope,
  type PeriodReading,
  type Reservation,
  type SpendLedger,
} from './spend-ledger.ts';

/** Arbitrary constant for the advisory lock held by the one instance that keeps counters in memory. */
const COUNTERS_LOCK = 7_146_002;
/** How often an instance without the lock tries to take it (ms). */
const STANDBY_RETRY_MS = 5000;

/**
 * Where spend and rate counters live, which decides how many instances may share a database:
 * - `redis`: in Redis, shared by any number of instances (REDIS_URL);
 * - `memory`: in this process; the embedded database (one process) or PostgreSQL while this
 *   instance holds the counters lock;
 * - `standby`: PostgreSQL without Redis while another instance holds the lock: keys under a
 *   limit are refused here (never served on counters the other instance cannot see) until
 *   this instance takes the lock.
 */
export interface Coordination {
  ledger: SpendLedger;
  limiter: RateLimiter;
  mode(): 'redis' | 'memory' | 'standby';
  /** Redis commands that failed (a metric); 0 without Redis. */
  failures(): number;
  /** Whether the shared counters are reachable (always true without Redis). */
  up(): boolean;
  close(): Promise<void>;
}

export async function startCoordination(config: Config, logger: Logger): Promise<Coordination> {
  if (config.redisUrl) {
    const link = new RedisLink(config.redisUrl, config.coordFailure, logger);
    await link.connect();
    const ledger = new SharedSpendLedger(link, config.coordFailure === 'open');
    const limiter = new SharedRateLimiter(link, config.coordFailure !== 'closed');
    return {
      ledger,
      limiter,
      mode: () => 'redis',
      failures: () => link.failures,
      up: () => link.up,
      async close() {
        await Promise.all([ledger.close(), limiter.close()]);
        await link.close();
      },
    };
  }
  if (cluster.isWorker) return workerCoordination();
  const ledger = new InMemorySpendLedger();
  const limiter = new InMemoryRateLimiter();
  if (!config.databaseUrl) {
    return { ledger, limiter, mode: () => 'memory', failures: () => 0, up: () => true, close: async () => {} };
  }
  return CountersLock.start(config.databaseUrl, ledger, limiter, logger);
}

/**
 * A worker of `tollgate serve --workers N` without Redis: the counters are its primary's
 * (MemoryCoordStore), shared with the other workers through IpcLink, with the same leases as over
 * Redis. The primary is on this machine, so there is no failure policy: while it is a standby
 * (another instance of the database holds the counters lock) limited keys are refused.
 */
async function workerCoordination(): Promise<Coordination> {
  const link = await IpcLink.open(PrimaryChannel.get());
  const ledger = new SharedSpendLedger(link, false);
  const limiter = new SharedRateLimiter(link, false);
  return {
    ledger,
    limiter,
    mode: () => (link.up ? 'memory' : 'standby'),
    failures: () => 0,
    up: () => true,
    async close() {
      await Promise.all([ledger.close(), limiter.close()]);
    },
  };
}

/**
 * The session advisory lock that makes one instance of a PostgreSQL database (without Redis)
 * the keeper of the counters. Taken at start if free, else retried every few seconds with a loud
 * log; `onOwner` is called when it is taken later (the previous holder stopped).
 */
export class CountersLockHolder {
  #owner = false;
  #timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly sql: postgres.Sql,
    private readonly logger: Logger,
  ) {}

  static async take(url: string, logger: Logger, onOwner: () => void = () => {}): Promise<CountersLockHolder> {
    // One connection of its own: a session lock lives as long as the connection that took it.
    const sql = postgres(url, { max: 1, idle_timeout: 0, onnotice: () => {} });
    const holder = new CountersLockHolder(sql, logger);
    if (!(await holder.#tryLock())) {
      logger.error(
        'Another Tollgate instance uses this database without REDIS_URL and keeps the spend and rate counters. ' +
          'This instance refuses keys under a spend or rate limit (503 coordination_unavailable) until that one stops; ' +
          'keys without limits are served. Set REDIS_URL on every instance to share counters.',
      );
      holder.#timer = setInterval(() => {
        void holder.#tryLock().then((owner) => {
          if (owner) {
            clearInterval(holder.#timer);
            logger.warn('This instance now keeps the spend and rate counters (the previous holder stopped).');
            onOwner();
          }
        });
      }, STANDBY_RETRY_MS);
      holder.#timer.unref();
    }
    return holder;
  }

  get owner(): boolean {
    return this.#owner;
  }

  async #tryLock(): Promise<boolean> {
    try {
      const [row] = await this.sql<{ locked: boolean }[]>`select pg_try_advisory_lock(${COUNTERS_LOCK}) as locked`;
      this.#owner = row?.locked === true;
    } catch (error) {
      this.logger.error({ err: error }, 'could not take the counters lock');
    }
    return this.#owner;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.sql.end({ timeout: 5 });
  }
}

/**
 * PostgreSQL without Redis: the instance holding a session advisory lock keeps the counters (in
 * memory, exact because no other instance admits limited requests); the others refuse keys under
 * a limit with a message naming REDIS_URL, and take over when the holder goes (the lock is
 * released with its connection), starting from the usage records.
 */
class CountersLock implements Coordination {
  readonly ledger: SpendLedger;
  readonly limiter: RateLimiter;

  private constructor(
    private readonly lock: CountersLockHolder,
    memoryLedger: InMemorySpendLedger,
    memoryLimiter: InMemoryRateLimiter,
  ) {
    this.ledger = {
      prepare: (scopes, now) => {
        this.#check();
        return memoryLedger.prepare(scopes, now);
      },
      headroom: (scopes, now): Headroom => memoryLedger.headroom(scopes, now),
      reserve: (scopes, amount, now): Reservation | undefined => memoryLedger.reserve(scopes, amount, now),
      settle: (reservation, actual, now) => memoryLedger.settle(reservation, actual, now),
      release: (reservation) => memoryLedger.release(reservation),
      read: (scope: LimitedScope, now: number): PeriodReading => memoryLedger.read(scope, now),
      peek: (id: string): LedgerCounters | undefined => memoryLedger.peek(id),
    };
    this.limiter = {
      admit: (keyId: string, limits: RateLimits, now: number): RateDecision => {
        this.#check();
        return memoryLimiter.admit(keyId, limits, now);
      },
      finish: (keyId, tokens, now) => memoryLimiter.finish(keyId, tokens, now),
    };
  }

  static async start(
    url: string,
    ledger: InMemorySpendLedger,
    limiter: InMemoryRateLimiter,
    logger: Logger,
  ): Promise<CountersLock> {
    return new CountersLock(await CountersLockHolder.take(url, logger), ledger, limiter);
  }

  #check(): void {
    if (!this.lock.owner) {
      throw new TollgateError(
        'TG_ERR_COORDINATION_UNAVAILABLE',
        'another Tollgate instance keeps the counters for this database; the operator must set REDIS_URL to run several instances with limits',
      );
    }
  }

  mode(): 'memory' | 'standby' {
    return this.lock.owner ? 'memory' : 'standby';
  }

  failures(): number {
    return 0;
  }

  up(): boolean {
    return true;
  }

  async close(): Promise<void> {
    await this.lock.close();
  }
}
