import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { TollgateError } from '../errors.ts';
import { LEASE_ACQUIRE, LEASE_INIT, LEASE_SYNC, RATE_ACQUIRE, RATE_SYNC, SLOT_ACQUIRE, SLOT_SYNC } from './scripts.ts';

/**
 * The atomic operations shared counters are made of (see scripts.ts for what each does). Redis
 * runs them as scripts; any other store that runs each one atomically can serve them too.
 */
export interface CoordStore {
  leaseInit(spend: string, all: string, periodField: string, periodSpent: string): Promise<unknown>;
  leaseAcquire(
    spend: string,
    lease: string,
    expiry: string,
    instance: string,
    ttlMs: number,
    allLimit: string,
    periodField: string,
    periodLimit: string,
    need: string,
    fraction: string,
    mine: string,
  ): Promise<string[]>;
  leaseSync(
    spend: string,
    lease: string,
    expiry: string,
    instance: string,
    ttlMs: number,
    spent: string,
    periodField: string,
    giveBack: string,
    mine: string,
  ): Promise<string[]>;
  rateAcquire(
    current: string,
    previous: string,
    tokensCurrent: string,
    tokensPrevious: string,
    weight: string,
    rpm: string,
    fraction: string,
    minimum: number,
  ): Promise<string[]>;
  rateSync(current: string, tokensCurrent: string, giveBack: number, tokens: number): Promise<unknown>;
  slotAcquire(
    slots: string,
    expiry: string,
    instance: string,
    ttlMs: number,
    max: number,
    fraction: string,
  ): Promise<number>;
  slotSync(
    slots: string,
    expiry: string,
    instance: string,
    ttlMs: number,
    released: number,
    held: number,
  ): Promise<unknown>;
}

/** The scripts as ioredis commands (EVALSHA, falling back to EVAL after a Redis restart). */
export type CoordRedis = Redis & CoordStore;

/**
 * What shared counters need from the place they are kept: this instance's id, the atomic
 * operations, a broadcast asking other instances to give back idle leases, and the refusal to
 * give while the store cannot be reached.
 */
export interface CoordLink {
  readonly instance: string;
  readonly up: boolean;
  run<T>(call: (store: CoordStore) => Promise<T>): Promise<T>;
  unavailable(): Error;
  reclaim(scope: string): void;
  onReclaim(handler: (scope: string) => void): void;
}

/** Reservations and slots an instance holds expire this long after its last word (ms). */
export const LEASE_TTL_MS = 5000;
/** How often an instance renews what it holds, pushes what it spent and returns idle leases (ms). */
export const HEARTBEAT_MS = 1000;
/** Part of what is left unleased one lease takes: slices shrink as the remainder shrinks. */
export const LEASE_FRACTION = 0.1;
/** A lease (budget, requests, slots) unused this long is given back for other instances (ms). */
export const IDLE_RETURN_MS = 2000;
/** What an instance settled reaches the shared counters within this long (ms). */
export const SYNC_DELAY_MS = 20;
/**
 * After asking other instances to give back what they hold unused, how long to wait before each
 * new try (ms): the second try covers a loaded machine, where the giving back takes longer.
 */
export const RECLAIM_WAITS_MS = [30, 120];

const RECLAIM_CHANNEL = 'tollgate:reclaim';

/**
 * One instance's connection to the Redis that every instance shares: the command connection
 * (with the coordination scripts), a subscriber for reclaim requests, this instance's id, and
 * whether Redis is reachable. When it is not, `unavailable` says what to tell the caller; the
 * client reconnects by itself and the first successful command marks Redis reachable again.
 */
export class RedisLink implements CoordLink {
  readonly instance = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  readonly redis: CoordRedis;
  readonly #sub: Redis;
  #up = true;
  readonly #reclaimHandlers: Array<(scope: string) => void> = [];
  readonly #stateHandlers: Array<(up: boolean) => void> = [];
  /** Commands that failed because Redis could not be reached (a metric). */
  failures = 0;

  constructor(
    url: string,
    readonly policy: Config['coordFailure'],
    private readonly logger: Logger,
  ) {
    const options = {
      // Fail at once while disconnected instead of queueing: a request must not wait for Redis.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // Long enough that a busy event loop is not taken for a lost Redis; a hung Redis holds a
      // request at most this long (a stopped one fails at once: nothing is queued offline).
      commandTimeout: 1000,
      connectTimeout: 2000,
      retryStrategy: (attempt: number) => Math.min(100 * attempt, 1000),
      lazyConnect: true,
      // The calls of one sync (every scope and key with something to push) go in one write.
      enableAutoPipelining: true,
    };
    const redis = new Redis(url, options) as CoordRedis;
    redis.defineCommand('leaseInit', { numberOfKeys: 1, lua: LEASE_INIT });
    redis.defineCommand('leaseAcquire', { numberOfKeys: 3, lua: LEASE_ACQUIRE });
    redis.defineCommand('leaseSync', { numberOfKeys: 3, lua: LEASE_SYNC });
    redis.defineCommand('rateAcquire', { numberOfKeys: 4, lua: RATE_ACQUIRE });
    redis.defineCommand('rateSync', { numberOfKeys: 2, lua: RATE_SYNC });
    redis.defineCommand('slotAcquire', { numberOfKeys: 2, lua: SLOT_ACQUIRE });
    redis.defineCommand('slotSync', { numberOfKeys: 2, lua: SLOT_SYNC });
    redis.on('error', () => this.#markDown());
    redis.on('end', () => this.#markDown());
    redis.on('ready', () => this.#markUp());
    this.redis = redis;
    this.#sub = new Redis(url, { ...options, enableOfflineQueue: true });
    this.#sub.on('error', () => {});
    this.#sub.on('message', (_channel: string, message: string) => {
      const [from, scope] = JSON.parse(message) as [string, string];
      if (from !== this.instance) for (const handler of this.#reclaimHandlers) handler(scope);
    });
  }

  /** Connects; an unreachable Redis is logged and retried in the background, not fatal. */
  async connect(): Promise<void> {
    try {
      await this.redis.connect();
      await this.#sub.connect();
      await this.#sub.subscribe(RECLAIM_CHANNEL);
    } catch (error) {
      this.#markDown(error);
    }
  }

  get up(): boolean {
    return this.#up;
  }

  /** Runs a Redis call; a connection failure marks Redis down and rethrows. */
  async run<T>(call: (store: CoordStore) => Promise<T>): Promise<T> {
    try {
      const result = await call(this.redis);
      this.#markUp();
      return result;
    } catch (error) {
      this.failures += 1;
      this.#markDown(error);
      throw error;
    }
  }

  /** The refusal for a request that needs Redis while it is unreachable. */
  unavailable(): TollgateError {
    return new TollgateError(
      'TG_ERR_COORDINATION_UNAVAILABLE',
      'the shared counters (Redis) are unreachable, and this key is under a limit that instances share',
    );
  }

  /** Asks the other instances to give back what they hold unused of `scope`'s budget or rate. */
  reclaim(scope: string): void {
    this.redis.publish(RECLAIM_CHANNEL, JSON.stringify([this.instance, scope])).catch(() => {});
  }

  onReclaim(handler: (scope: string) => void): void {
    this.#reclaimHandlers.push(handler);
  }

  onState(handler: (up: boolean) => void): void {
    this.#stateHandlers.push(handler);
  }

  #markDown(error?: unknown): void {
    if (!this.#up) return;
    this.#up = false;
    this.logger.error(
      { err: error, policy: this.policy },
      `Redis is unreachable: shared spend and rate counters are unavailable (TOLLGATE_COORD_FAILURE=${this.policy}); retrying`,
    );
    for (const handler of this.#stateHandlers) handler(false);
  }

  #markUp(): void {
    if (this.#up) return;
    this.#up = true;
    this.logger.warn('Redis is reachable again: shared spend and rate counters resumed');
    for (const handler of this.#stateHandlers) handler(true);
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    this.#sub.disconnect();
  }
}
