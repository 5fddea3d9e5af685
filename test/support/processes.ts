import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from './redis.ts';

export interface ServedProcess {
  child: ChildProcess;
  url: string;
  port: number;
  /** Everything written to stdout and stderr so far. */
  output: () => string;
}

/** Runs `tollgate serve` (what `npm start` runs) as a real process, and waits until it is healthy. */
export async function serveProcess(env: Record<string, string>, port?: number): Promise<ServedProcess> {
  const listen = port ?? (await freePort());
  let output = '';
  const child = spawn(process.execPath, ['bin/tollgate.js', 'serve'], {
    env: { ...process.env, PORT: String(listen), HOST: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${listen}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`tollgate exited early:\n${output}`);
    const healthy = await fetch(`${url}/health`).then(
      (response) => response.ok,
      () => false,
    );
    if (healthy) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`tollgate did not become healthy:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { child, url, port: listen, output: () => output };
}

/** The exit code once the process has exited. */
export function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}
