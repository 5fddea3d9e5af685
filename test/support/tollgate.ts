import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createTollgate, type Tollgate } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';

export interface RunningTollgate {
  url: string;
  tollgate: Tollgate;
  /** Every log line written so far, as raw JSON text. */
  logs: string[];
  /** Calls the admin API with the admin token; returns status and parsed body. */
  admin<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

/** Starts Tollgate in this process on a free port, with logs captured. */
export async function startTollgate(
  options: { dataDir: string; databaseUrl?: string | undefined },
  env: Record<string, string> = {},
  clock?: () => number,
): Promise<RunningTollgate> {
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    TOLLGATE_DATA_DIR: options.dataDir,
    TOLLGATE_ADMIN_TOKEN: ADMIN_TOKEN,
    TOLLGATE_LOG_LEVEL: 'info',
    ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}),
    ...env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const tollgate = await createTollgate(config, { logger: createLogger(config, sink), clock });
  await tollgate.app.listen({ port: 0, host: '127.0.0.1' });
  const url = `http://127.0.0.1:${(tollgate.app.server.address() as AddressInfo).port}`;
  return {
    url,
    tollgate,
    logs,
    async admin(method, path, body) {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined };
    },
    close: () => tollgate.close(),
  };
}
