import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { PrimaryChannel, WorkerHub } from '../cluster/ipc-channel.ts';
import { TollgateError } from '../errors.ts';
import type { MemoryCoordStore } from './ipc-coord-store.ts';
import type { CoordLink, CoordStore } from './redis-link.ts';

type Operation = keyof CoordStore;
const OPERATIONS: Operation[] = [
  'leaseInit',
  'leaseAcquire',
  'leaseSync',
  'rateAcquire',
  'rateSync',
  'slotAcquire',
  'slotSync',
];

/** Why the primary refuses coordination calls: it does not hold the counters of this database. */
const STANDBY =
  'another Tollgate instance keeps the counters for this database; the operator must set REDIS_URL to run several instances with limits';

/**
 * A worker's way to the counters its primary keeps (MemoryCoordStore) when there is no Redis:
 * every operation is one IPC call, answered atomically by the primary. The shared ledger and
 * rate limiter run over it exactly as over Redis (leases, reclaim, expiry of a dead worker's).
 */
export class IpcLink implements CoordLink {
  readonly instance = `${hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  readonly #store: CoordStore;
  #up = true;
  readonly #reclaimHandlers: Array<(scope: string) => void> = [];

  private constructor(private readonly channel: PrimaryChannel) {
    const store: Partial<Record<Operation, (...args: unknown[]) => Promise<unknown>>> = {};
    for (const operation of OPERATIONS) {
      store[operation] = (...args: unknown[]) => channel.call('coord', [operation, args]);
    }
    this.#store = store as unknown as CoordStore;
    channel.on('coord.reclaim', (scope) => {
      for (const handler of this.#reclaimHandlers) handler(scope as string);
    });
    channel.on('coord.state', (up) => {
      this.#up = up === true;
    });
  }

  static async open(channel: PrimaryChannel): Promise<IpcLink> {
    const link = new IpcLink(channel);
    link.#up = await channel.call<boolean>('coord.state');
    return link;
  }

  /** False while the primary is a standby: another instance of the database keeps the counters. */
  get up(): boolean {
    return this.#up;
  }

  async run<T>(call: (store: CoordStore) => Promise<T>): Promise<T> {
    return call(this.#store);
  }

  unavailable(): TollgateError {
    return new TollgateError('TG_ERR_COORDINATION_UNAVAILABLE', STANDBY);
  }

  reclaim(scope: string): void {
    this.channel.notify('coord.reclaim', scope);
  }

  onReclaim(handler: (scope: string) => void): void {
    this.#reclaimHandlers.push(handler);
  }
}

/**
 * The primary's side: answers its workers' coordination calls from `store` while `owner()` says
 * this machine keeps the counters, relays reclaim requests to the other workers, and tells
 * workers when ownership changes (`announce`).
 */
export function serveCoordination(hub: WorkerHub, store: MemoryCoordStore, owner: () => boolean) {
  hub.handle('coord', (payload) => {
    if (!owner()) throw new Error(STANDBY);
    const [operation, args] = payload as [Operation, unknown[]];
    if (!OPERATIONS.includes(operation)) throw new Error(`unknown coordination operation ${String(operation)}`);
    return (store[operation] as (...values: unknown[]) => Promise<unknown>).apply(store, args);
  });
  hub.handle('coord.state', () => owner());
  hub.handle('coord.reclaim', (scope, worker) => hub.broadcast('coord.reclaim', scope, worker));
  return { announce: () => hub.broadcast('coord.state', owner()) };
}
