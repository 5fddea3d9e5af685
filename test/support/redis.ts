import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Redis for the suites that claim multi-instance behaviour: Debian's `redis-server` (installed and
 * started by `.ci/run`, which exports TEST_REDIS_URL). Suites that stop and start Redis under load
 * run their own server with `RedisServer`, so they never disturb another suite's.
 */
export function redisServerPath(): string | undefined {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Whether the Redis suites can run here; in CI they must (`.ci/run` installs Redis). */
export const redisAvailable = Boolean(process.env.TEST_REDIS_URL || redisServerPath());
if (process.env.CI && !redisAvailable) throw new Error('CI without redis-server: .ci/run should have installed it');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/** A throwaway `redis-server` on its own port, without persistence; stop/start keep the port. */
export class RedisServer {
  #process: ChildProcess | undefined;
  readonly #dir = mkdtempSync(path.join(tmpdir(), 'tollgate-redis-'));
  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    const binary = redisServerPath();
    if (!binary) throw new Error('redis-server is not installed');
    const child = spawn(
      binary,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.#dir],
      { stdio: 'ignore' },
    );
    this.#process = child;
    for (let attempt = 0; attempt < 100; attempt++) {
      if (await this.#accepting()) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`redis-server did not start on port ${this.port}`);
  }

  /** Stops the server at once (SIGKILL unless `graceful`); everything it held is gone. */
  async stop(graceful = false): Promise<void> {
    const child = this.#process;
    this.#process = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill(graceful ? 'SIGTERM' : 'SIGKILL');
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  #accepting(): Promise<boolean> {
    return new Promise((resolve) => {
      const socket = connect(this.port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
  }
}

/** The shared test Redis's URL, or a server of this suite's own when none is shared. */
export async function sharedRedis(): Promise<{ url: string; close(): Promise<void> }> {
  const url = process.env.TEST_REDIS_URL;
  if (url) return { url, close: async () => {} };
  const server = await RedisServer.start();
  return { url: server.url, close: () => server.close() };
}
