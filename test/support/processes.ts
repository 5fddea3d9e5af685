import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './redis.ts';

/** How a process ended: its exit code (null when a signal killed it), the signal, and when. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export interface ServedProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
  /** Resolves when the process has exited. */
  exited: Promise<Exit>;
}

/** Starts `tollgate serve` (what `npm start` runs) as a real process on `port`, without waiting. */
export function spawnServe(env: Record<string, string>, port: number): Omit<ServedProcess, 'url'> {
  let output = '';
  const child = spawn(process.execPath, ['bin/tollgate.js', 'serve'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  return { child, port, output: () => output, exited };
}

/** Runs `tollgate serve` as a real process, and waits until it is healthy. */
export async function serveProcess(
  env: Record<string, string>,
  port?: number,
  timeoutMs = 30_000,
): Promise<ServedProcess> {
  const started = spawnServe(env, port ?? (await freePort()));
  const url = `http://127.0.0.1:${started.port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (started.child.exitCode !== null) throw new Error(`tollgate exited early:\n${started.output()}`);
    const healthy = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      started.child.kill('SIGKILL');
      throw new Error(`tollgate did not become healthy:\n${started.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { ...started, url };
}

/** The exit code once the process has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}
