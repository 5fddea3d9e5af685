import type { Config } from '../config.ts';
import type { Store } from '../store/db.ts';
import type { FeedLogger } from './change-feed.ts';
import { type Invalidation, LocalInvalidation } from './invalidation.ts';
import { PostgresInvalidation } from './postgres-invalidation.ts';
import { RedisInvalidation } from './redis-invalidation.ts';

/**
 * The invalidation an instance needs: Redis pub/sub when REDIS_URL is set, PostgreSQL's
 * LISTEN/NOTIFY otherwise, and nothing beyond this process on the embedded database.
 */
export async function openInvalidation(
  store: Store,
  config: Pick<Config, 'databaseUrl' | 'redisUrl'>,
  logger: FeedLogger,
): Promise<Invalidation> {
  if (store.kind !== 'postgres' || !config.databaseUrl) return new LocalInvalidation();
  if (config.redisUrl) return RedisInvalidation.start(store.db, config.redisUrl, { logger });
  return PostgresInvalidation.start(store.db, config.databaseUrl, { logger });
}
