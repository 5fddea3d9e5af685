import cluster, { type Worker } from 'node:cluster';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { type Config, ConfigError, loadConfig } from '../config.ts';
import { CountersLockHolder } from '../coord/coordination.ts';
import { MemoryCoordStore } from '../coord/ipc-coord-store.ts';
import { relayInvalidation } from '../coord/ipc-invalidation.ts';
import { serveCoordination } from '../coord/ipc-link.ts';
import { createLogger } from '../logger.ts';
import { openStore, type Store } from '../store/db.ts';
import { WorkerHub } from './ipc-channel.ts';
import { serveDatabase } from './ipc-database.ts';

/** A worker that lived this long before dying is restarted at once; sooner, after a growing pause (ms). */
const STEADY_MS = 30_000;
const FIRST_RESTART_MS = 100;
const MAX_RESTART_MS = 10_000;

/** `--workers N|auto`: a whole number of processes, or one per core the machine offers. */
export function workerCount(raw: string): number {
  const text = raw.trim().toLowerCase();
  if (text === 'auto') return availableParallelism();
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 1024) {
    throw new ConfigError('--workers', `expected a number of processes from 1 to 1024, or auto, got "${raw}"`);
  }
  return Number(text);
}

/** What the primary keeps for its workers, and closes once the last one has stopped. */
interface Shared {
  store?: Store;
  counters?: MemoryCoordStore;
  lock?: CountersLockHolder;
}

/**
 * The primary of `tollgate serve --workers N`: it serves no request itself. It owns what must be
 * one per machine when nothing external holds it — the embedded database (migrated here, before
 * any worker starts) and, without Redis, the spend and rate counters — and serves them to its
 * workers over IPC; it relays invalidations between workers on the embedded database. It starts
 * one worker (which creates the first-run admin token and owner link, printed once), then the
 * others; restarts a worker that dies, with back-off; and on SIGTERM/SIGINT tells every worker to
 * drain and exits when all have.
 */
export async function runPrimary(workers: number, env: Record<string, string | undefined> = process.env) {
  let config: Config;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tollgate: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config);
  const hub = new WorkerHub();
  const shared = await share(config, hub, logger);
  // Structured clone: database rows keep their bigints, byte arrays and dates on the way over.
  cluster.setupPrimary({ serialization: 'advanced' });

  let stopping = false;
  let exitCode = 0;
  let bannerFrom: Worker | undefined;
  let anyListened = false;
  const alive = new Set<Worker>();
  const failures = { recent: 0 };

  hub.handle('banner', (payload, worker) => {
    const { stream, text } = payload as { stream: 'stdout' | 'stderr'; text: string };
    if (worker === bannerFrom) process[stream].write(text);
  });

  const fork = (): Worker => {
    const worker = cluster.fork();
    const started = Date.now();
    alive.add(worker);
    hub.attach(worker);
    worker.once('exit', (code, signal) => {
      alive.delete(worker);
      if (stopping) {
        if (code !== 0) exitCode = 1;
        if (alive.size === 0) void finish();
        return;
      }
      if (!anyListened) {
        // No worker ever served: a start-up failure (port taken, database unreachable), not a
        // crash to retry. A replacement that fails to start later is retried with back-off.
        logger.fatal({ worker: worker.process.pid, code, signal }, 'a worker failed to start; stopping');
        exitCode = 1;
        stop('worker failure');
        return;
      }
      failures.recent = Date.now() - started > STEADY_MS ? 0 : failures.recent + 1;
      const pause = failures.recent === 0 ? 0 : Math.min(MAX_RESTART_MS, FIRST_RESTART_MS * 2 ** failures.recent);
      logger.error(
        { worker: worker.process.pid, code, signal, restartInMs: pause },
        'a worker stopped unexpectedly; starting another',
      );
      setTimeout(() => {
        if (!stopping) fork();
      }, pause);
    });
    return worker;
  };
  cluster.on('listening', () => {
    anyListened = true;
  });

  const finish = async () => {
    shared.counters?.close();
    await shared.lock?.close().catch(() => {});
    await shared.store?.close().catch((error) => logger.error({ err: error }, 'could not close the database'));
    process.exit(exitCode);
  };
  const stop = (reason: string) => {
    if (stopping) {
      // A second signal: workers cut what is still in flight, as a lone process does.
      for (const worker of alive) worker.process.kill('SIGTERM');
      return;
    }
    stopping = true;
    logger.info({ reason }, 'stopping: every worker finishes its requests and writes its usage records');
    if (alive.size === 0) void finish();
    for (const worker of alive) worker.process.kill('SIGTERM');
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  // The first worker alone, so first-run set-up (admin token, owner link) happens once.
  bannerFrom = fork();
  await new Promise<void>((resolve) => {
    const ready = (worker: Worker) => {
      if (worker !== bannerFrom) return;
      cluster.off('listening', ready);
      resolve();
    };
    cluster.on('listening', ready);
    bannerFrom?.once('exit', () => resolve());
  });
  if (stopping) return;
  for (let i = 1; i < workers; i++) fork();
  logger.info(
    { workers, port: config.port, database: shared.store ? 'pglite' : 'postgres', primary: process.pid },
    'Tollgate is listening with several worker processes',
  );
}

/** Opens what the workers share through this process: the embedded database, the counters. */
async function share(config: Config, hub: WorkerHub, logger: Logger): Promise<Shared> {
  const shared: Shared = {};
  if (!config.databaseUrl) {
    const store = await openStore(config);
    if (!store.pglite) throw new Error('the embedded database did not open in the primary');
    serveDatabase(hub, store.pglite);
    relayInvalidation(hub);
    shared.store = store;
  }
  if (!config.redisUrl) {
    const counters = new MemoryCoordStore();
    let owner = () => true;
    if (config.databaseUrl) {
      // Other instances may share this PostgreSQL: one machine keeps the counters (coordination.ts).
      const lock = await CountersLockHolder.take(config.databaseUrl, logger, () => service.announce());
      owner = () => lock.owner;
      shared.lock = lock;
    }
    const service = serveCoordination(hub, counters, () => owner());
    shared.counters = counters;
  }
  return shared;
}
