import cluster from 'node:cluster';
import { createTollgate, type Tollgate } from './app.ts';
import { PrimaryChannel } from './cluster/ipc-channel.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { failureKind } from './store/db-failure.ts';

/** Past the grace, how long closing (writing usage records, closing connections) may take before the process gives up. */
const CLOSE_WATCHDOG_MS = 60_000;

/** `host:port` of a database URL, without credentials. */
function databaseAddress(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * `tollgate serve`: start, listen, print first-run instructions once, and on SIGTERM/SIGINT
 * stop gracefully (docs/durability.md): `/health` answers 503 and new connections are refused
 * at once, requests in flight may finish within TOLLGATE_SHUTDOWN_GRACE and are cut (and
 * billed) past it, every usage record is written (or spooled) before exiting. A second signal
 * cuts at once.
 */
export async function serve(env: Record<string, string | undefined> = process.env): Promise<Tollgate> {
  let config: Config;
  let tollgate: Tollgate;
  try {
    config = loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tollgate: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  try {
    tollgate = await createTollgate(config, { logger: createLogger(config) });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tollgate: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    if (config.databaseUrl && failureKind(error) === 'unreachable') {
      process.stderr.write(
        `tollgate: cannot reach the database at ${databaseAddress(config.databaseUrl)} (${(error as Error).message}).\n` +
          '  Tollgate does not start without its database; start it again once the database answers.\n' +
          '  Usage records spooled by an earlier process in the data directory are written then.\n',
      );
      process.exit(1);
    }
    throw error;
  }
  const logger = tollgate.app.log;
  const address = await tollgate.app.listen({ port: config.port, host: config.host });
  logger.info({ address, database: tollgate.store.kind }, 'Tollgate is listening');
  const url = `http://localhost:${config.port}`;
  // A worker of `serve --workers N` hands its banner to the primary, which prints one.
  const print = (stream: 'stdout' | 'stderr', text: string) =>
    cluster.isWorker ? PrimaryChannel.get().notify('banner', { stream, text }) : process[stream].write(text);
  if (tollgate.firstRunAdminToken) {
    print(
      'stdout',
      [
        '',
        `  Tollgate is running on ${url}`,
        '',
        '  First start: an admin API token was created. It is shown only this once:',
        '',
        `    TOLLGATE_ADMIN_TOKEN=${tollgate.firstRunAdminToken}`,
        '',
        '  Export it to use the CLI (npx tollgate keys list) or the admin API.',
        '',
      ].join('\n'),
    );
  }
  if (tollgate.masterKeyWarning) {
    print(
      'stderr',
      [
        '',
        '  ************************************************************************************',
        '  WARNING: TOLLGATE_MASTER_KEY is not set. Provider secrets are encrypted under a key',
        `  file in ${config.dataDir}: whoever can read that directory can read them, and other`,
        '  instances cannot. Set TOLLGATE_MASTER_KEY (openssl rand -hex 32), the same everywhere.',
        '  ************************************************************************************',
        '',
        '',
      ].join('\n'),
    );
  }
  if (tollgate.setupToken) {
    print(
      'stdout',
      `\n  No owner yet: open ${url}/setup?token=${tollgate.setupToken} to create the first owner account\n  (or start with TOLLGATE_ADMIN_EMAIL and TOLLGATE_ADMIN_PASSWORD set).\n\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      // A second signal: do not wait for the grace, cut what is still in flight (it is billed).
      logger.warn({ signal }, 'second signal: cutting the requests still in flight');
      tollgate.app.server.closeAllConnections();
      return;
    }
    stopping = true;
    logger.info(
      { signal, graceMs: config.shutdownGraceMs },
      'stopping: /health answers 503, new connections are refused, requests in flight may finish within the grace',
    );
    setTimeout(() => {
      logger.error({ signal }, 'stopping took too long; exiting');
      process.exit(1);
    }, config.shutdownGraceMs + CLOSE_WATCHDOG_MS).unref();
    tollgate
      .close()
      .then(() => {
        logger.info({ signal }, 'stopped: every usage record written (or spooled)');
        process.exit(0);
      })
      .catch((error) => {
        logger.error({ err: error }, 'unclean stop');
        process.exit(1);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return tollgate;
}
