import cluster from 'node:cluster';
import { PrimaryChannel } from '../cluster/ipc-channel.ts';
import type { Config } from '../config.ts';
import type { Store } from '../store/db.ts';
import type { FeedLogger } from './change-feed.ts';
import { type Invalidation, LocalInvalidation } from './invalidation.ts';
import { IpcInvalidation } from './ipc-invalidation.ts';
import { PostgresInvalidation } from './postgres-invalidation.ts';
import { RedisInvalidation } from './redis-invalidation.ts';

/**
 * The invalidation an instance needs: Redis pub/sub when REDIS_URL is set, PostgreSQL's
 * LISTEN/NOTIFY otherwise, and on the embedded database nothing beyond this process (or its
 * sibling workers, through their primary).
 */
export async function openInvalidation(
  store: Store,
  config: Pick<Config, 'databaseUrl' | 'redisUrl'>,
  logger: FeedLogger,
): Promise<Invalidation> {
  if (store.kind !== 'postgres' || !config.databaseUrl) {
    // Workers of `tollgate serve --workers N` on the embedded database: relayed by their primary.
    return cluster.isWorker ? new IpcInvalidation(PrimaryChannel.get()) : new LocalInvalidation();
  }
  if (config.redisUrl) return RedisInvalidation.start(store.db, config.redisUrl, { logger });
  return PostgresInvalidation.start(store.db, config.databaseUrl, { logger });
}
