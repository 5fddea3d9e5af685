import { createTollgate, type Tollgate } from './app.ts';
import { type Config, ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';

/**
 * `tollgate serve`: start, listen, print first-run instructions once, and on SIGTERM/SIGINT
 * finish in-flight requests and write every usage record before exiting.
 */
export async function serve(env: Record<string, string | undefined> = process.env): Promise<Tollgate> {
  let config: Config;
  let tollgate: Tollgate;
  try {
    config = loadConfig(env);
    tollgate = await createTollgate(config, { logger: createLogger(config) });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tollgate: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  const logger = tollgate.app.log;
  const address = await tollgate.app.listen({ port: config.port, host: config.host });
  logger.info({ address, database: tollgate.store.kind }, 'Tollgate is listening');
  const url = `http://localhost:${config.port}`;
  if (tollgate.firstRunAdminToken) {
    process.stdout.write(
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
    process.stderr.write(
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
    process.stdout.write(
      `\n  No owner yet: open ${url}/setup?token=${tollgate.setupToken} to create the first owner account\n  (or start with TOLLGATE_ADMIN_EMAIL and TOLLGATE_ADMIN_PASSWORD set).\n\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: finishing requests and writing usage records');
    tollgate
      .close()
      .then(() => process.exit(0))
      .catch((error) => {
        logger.error({ err: error }, 'unclean stop');
        process.exit(1);
      });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return tollgate;
}
